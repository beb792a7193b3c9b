-- The appender-only horizon again (008_a), with the race that made 010 switch it off fixed.
--
-- 008_a told an appender from a non-appender by pg_locks.virtualtransaction: "holds its id lock but
-- no 'nlap' lock under the same virtual transaction". pg_locks reads each row's virtual transaction
-- from the holder's PGPROC at read time, and a committing backend clears its local transaction id
-- (ProcArrayEndTransaction) before it releases its locks, without the lock-table locks that make
-- pg_locks consistent. So one read could show an appender's 'nlap' row under "7/123" and its id-lock
-- row under "7/0": the committing appender looked like a proven non-appender, the horizon passed
-- its id, and a reader whose snapshot still had it running (its events invisible) moved past them.
-- Under 20 writers a probe of pg_locks saw that torn pair about once in 400 reads, and the
-- subscriber in test/store/read-all.test.ts skipped an event about one run in four.
--
-- The backend's pid does not change while it commits, and one backend runs one transaction at a
-- time; commit releases the id lock (default lock method) before the advisory 'nlap' lock (user
-- lock method), so a pid never shows an id lock beside another transaction's 'nlap'. A transaction
-- with a granted id lock and no 'nlap' lock held by the same pid therefore never appended and never
-- will (nl_begin_append refuses once the id exists). Everything else about the proof in 008_a holds:
-- the rest of the snapshot's running ids, and the snapshot's xmax, bound the horizon.
-- Prepared transactions (pid NULL) are never proven non-appenders: NULLs make NOT IN unknown.
CREATE OR REPLACE FUNCTION nl_log_horizon() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
DECLARE
  snap pg_snapshot := pg_current_snapshot();
  h xid8;
BEGIN
  -- The cluster-wide bound is never wrong, only too cautious; when no event at or above it is
  -- visible it gives readers the same events without reading the lock table (which briefly holds up
  -- every lock acquisition in the cluster).
  IF NOT EXISTS (SELECT 1 FROM nl_events e WHERE e.transaction_id >= pg_snapshot_xmin(snap)) THEN
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
