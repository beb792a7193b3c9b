-- nl_log_horizon's shortcut asked "is any visible event at or above the snapshot's xmin?" with
-- NOT EXISTS (... transaction_id >= pg_snapshot_xmin(snap)). PL/pgSQL caches that statement's plan,
-- and from the sixth call in a session PostgreSQL uses a generic plan in which the bound is an
-- unknown parameter: a sequential scan of the whole log. Every long-lived reader (the sealer, the
-- subscription followers, the agents' polls, a rebuild's pages) paid it on each call: 4.7 ms a call
-- at 60,000 events, growing with the log, against 0.4-0.8 ms for the first five calls (issue 21).
-- max(transaction_id) reads one end of the global-order index whatever the plan, and "the newest
-- visible event is below xmin" is the same question. Everything else is 011's, unchanged.
CREATE OR REPLACE FUNCTION nl_log_horizon() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
DECLARE
  snap pg_snapshot := pg_current_snapshot();
  h xid8;
BEGIN
  -- The cluster-wide bound is never wrong, only too cautious; when no event at or above it is
  -- visible it gives readers the same events without reading the lock table (which briefly holds up
  -- every lock acquisition in the cluster).
  IF coalesce((SELECT max(e.transaction_id) FROM nl_events e) < pg_snapshot_xmin(snap), true) THEN
    RETURN pg_snapshot_xmin(snap);
  END IF;
  WITH locks AS MATERIALIZED (
    SELECT l.locktype, l.database, l.classid, l.objid, l.objsubid, l.pid, l.mode, l.granted,
           l.transactionid::text::bigint AS xid32
      FROM pg_locks l WHERE l.locktype IN ('transactionid', 'advisory')
  ), appenders AS (
    SELECT a.pid FROM locks a
     WHERE a.locktype = 'advisory' AND a.classid = 1852596592 AND a.objid = 0 AND a.objsubid = 2
       AND a.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
  ), non_appenders AS (
    SELECT t.xid32 FROM locks t
     WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
       AND t.pid NOT IN (SELECT pid FROM appenders)
  )
  SELECT min(x) INTO h FROM pg_snapshot_xip(snap) x
   WHERE (x::text::bigint % 4294967296) NOT IN (SELECT xid32 FROM non_appenders);
  RETURN least(h, pg_snapshot_xmax(snap));
END $$;
