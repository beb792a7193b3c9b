-- A visibility horizon bounded by appending transactions only.
--
-- readAll used to stop at pg_snapshot_xmin: the oldest transaction id still running anywhere in the
-- cluster. Any long transaction that holds an id (in another database, a pg_dump that writes, a
-- one-transaction rebuild) then froze every reader. Only a transaction that can still add events
-- may hold the log back, so appenders announce themselves:
--
--   * nl_begin_append() takes a shared transaction-level advisory lock (key 'nlap', 0; advisory
--     locks are per database) before the transaction's first write, so before it has an id. It
--     refuses (NL428) when the transaction already has an id without holding the lock: from then on
--     "holds the lock" is true of every appender for its whole life (xact locks are released only
--     at its end), and "has an id but not the lock" proves a transaction will never append.
--   * nl_log_horizon() is the first id whose events may still be missing: the smallest id running
--     in the caller's snapshot that is not proven to be a non-appender, else the snapshot's xmax.
--
-- Why this cannot skip an event (R = a reader's statement, snapshot taken at t_s, pg_locks read
-- once at t_l > t_s; pg_locks is one consistent copy of the lock table, MATERIALIZED below):
--   * An appender A whose events R cannot see had not committed at t_s. If A's id was assigned
--     before t_s it is in the snapshot's xip. It is excluded only if, at t_l, a transaction holds
--     A's own id lock (transactionid, ExclusiveLock, granted) and no 'nlap' lock under the same
--     virtual transaction; but A took 'nlap' before its id existed and keeps it to its end, so A
--     is never excluded and the horizon stays <= A's id.
--   * If A's id is assigned after t_s it is >= the snapshot's xmax (ids only grow), so >= horizon.
--   * An appender with the lock but no id yet, or an id whose lock-table entry is not in place yet
--     (AssignTransactionId inserts it just after taking the id): not proven non-appender, so either
--     it is counted (horizon <= its id) or its id is >= xmax. A transaction that ended between t_s
--     and t_l is not proven either: counted, the horizon is only conservative for this one read.
--   * A reader's own pg_locks read cannot be torn: one MATERIALIZED scan of pg_lock_status().
-- A long transaction elsewhere (another database, or this one without appending) holds its id
-- lock and no 'nlap' lock here: proven non-appender, so it no longer holds anyone back. A long
-- *appending* transaction still does, by design: its events must not be overtaken.

CREATE FUNCTION nl_begin_append() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('nl.appending', true) IS DISTINCT FROM 'on' THEN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION 'an appending transaction must call nl_begin_append() before its first write'
        USING ERRCODE = 'NL428';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1852596592, 0); -- 'nlap'
    PERFORM set_config('nl.appending', 'on', true);
  END IF;
END $$;

CREATE FUNCTION nl_log_horizon() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
DECLARE
  snap pg_snapshot := pg_current_snapshot();
  h xid8;
BEGIN
  -- The old, cluster-wide bound is never wrong, only too cautious; when no event at or above it
  -- is visible it gives readers the same events, without reading the lock table (which briefly
  -- holds up every lock acquisition in the cluster).
  IF NOT EXISTS (SELECT 1 FROM nl_events e WHERE e.transaction_id >= pg_snapshot_xmin(snap)) THEN
    RETURN pg_snapshot_xmin(snap);
  END IF;
  WITH locks AS MATERIALIZED (
    SELECT l.locktype, l.database, l.classid, l.objid, l.objsubid, l.virtualtransaction, l.mode, l.granted,
           l.transactionid::text::bigint AS xid32
      FROM pg_locks l WHERE l.locktype IN ('transactionid', 'advisory')
  ), appenders AS (
    SELECT a.virtualtransaction FROM locks a
     WHERE a.locktype = 'advisory' AND a.classid = 1852596592 AND a.objid = 0 AND a.objsubid = 2
       AND a.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
  ), non_appenders AS (
    SELECT t.xid32 FROM locks t
     WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
       AND t.virtualtransaction NOT IN (SELECT virtualtransaction FROM appenders)
  )
  SELECT min(x) INTO h FROM pg_snapshot_xip(snap) x
   WHERE (x::text::bigint % 4294967296) NOT IN (SELECT xid32 FROM non_appenders);
  RETURN least(h, pg_snapshot_xmax(snap));
END $$;

-- Same as 006's, announcing the appender first.
CREATE OR REPLACE FUNCTION nl_append(p_stream text, p_stream_type text, p_expected bigint, p_events jsonb, p_metadata jsonb)
RETURNS TABLE (stream_version bigint, global_position bigint, transaction_id xid8, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  n int := jsonb_array_length(p_events);
  ids uuid[];
  known int;
  v_new bigint;
  prev bytea;
  h bytea;
  e jsonb;
  o bigint;
BEGIN
  PERFORM nl_begin_append();
  SELECT array_agg((x->>'id')::uuid) INTO ids FROM jsonb_array_elements(p_events) x;
  SELECT count(*) INTO known FROM nl_events ev WHERE ev.event_id = ANY (ids);
  IF known > 0 THEN
    IF known = n AND NOT EXISTS (SELECT 1 FROM nl_events ev WHERE ev.event_id = ANY (ids) AND ev.stream_id <> p_stream) THEN
      RETURN;
    END IF;
    RAISE EXCEPTION 'some event ids of this append are already stored' USING ERRCODE = 'NL410';
  END IF;

  IF p_expected = -2 OR p_expected = 0 THEN
    INSERT INTO nl_streams (stream_id, stream_type, version) VALUES (p_stream, p_stream_type, n)
      ON CONFLICT (stream_id) DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'stream % already exists', p_stream USING ERRCODE = 'NL409';
    END IF;
    v_new := n;
  ELSIF p_expected = -1 THEN
    INSERT INTO nl_streams AS s (stream_id, stream_type, version) VALUES (p_stream, p_stream_type, n)
      ON CONFLICT (stream_id) DO UPDATE SET version = s.version + n, updated_at = now()
      RETURNING s.version INTO v_new;
  ELSE
    UPDATE nl_streams s SET version = s.version + n, updated_at = now()
      WHERE s.stream_id = p_stream AND (p_expected = -3 OR s.version = p_expected)
      RETURNING s.version INTO v_new;
    IF v_new IS NULL THEN
      RAISE EXCEPTION 'stream % is not at the expected version %', p_stream, p_expected USING ERRCODE = 'NL409';
    END IF;
  END IF;

  prev := coalesce((SELECT ev.hash FROM nl_events ev WHERE ev.stream_id = p_stream AND ev.stream_version = v_new - n), ''::bytea);
  FOR e, o IN SELECT x, ord FROM jsonb_array_elements(p_events) WITH ORDINALITY AS u(x, ord) ORDER BY ord LOOP
    h := nl_event_hash(prev, (e->>'id')::uuid, e->>'type', (e->>'version')::int, e->'data', p_metadata);
    RETURN QUERY
    INSERT INTO nl_events AS ev (stream_id, stream_version, event_id, event_type, schema_version, data, metadata, prev_hash, hash)
    VALUES (p_stream, v_new - n + o, (e->>'id')::uuid, e->>'type', (e->>'version')::int, e->'data', p_metadata, prev, h)
    RETURNING ev.stream_version, ev.global_position, ev.transaction_id, ev.recorded_at;
    prev := h;
  END LOOP;
END $$;

-- Same as 006's: an import appends too.
CREATE OR REPLACE FUNCTION nl_import(p_events jsonb) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int;
  bad record;
BEGIN
  PERFORM nl_begin_append();
  CREATE TEMP TABLE IF NOT EXISTS nl_import_batch (
    ord bigint, event_id uuid, stream_id text, stream_version bigint, event_type text, schema_version int,
    recorded_at timestamptz, data jsonb, metadata jsonb, prev_hash bytea, hash bytea
  ) ON COMMIT DROP;
  TRUNCATE nl_import_batch;
  INSERT INTO nl_import_batch
  SELECT u.ord, (x->>'eventId')::uuid, x->>'streamId', (x->>'streamVersion')::bigint, x->>'type', (x->>'schemaVersion')::int,
         (x->>'recordedAt')::timestamptz, x->'data', x->'metadata', decode(x->>'prevHash', 'hex'), decode(x->>'hash', 'hex')
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS u(x, ord);

  -- Each row against its own content, then against the row (imported earlier or in this batch)
  -- it claims to follow.
  SELECT b.event_id, b.stream_id, b.stream_version INTO bad
    FROM (SELECT i.*, lag(i.hash) OVER w AS batch_prev_hash, lag(i.stream_version) OVER w AS batch_prev_version
            FROM nl_import_batch i WINDOW w AS (PARTITION BY i.stream_id ORDER BY i.stream_version)) b
   WHERE b.hash IS DISTINCT FROM nl_event_hash(b.prev_hash, b.event_id, b.event_type, b.schema_version, b.data, b.metadata)
      OR b.prev_hash IS DISTINCT FROM (CASE
           WHEN b.stream_version = 1 THEN ''::bytea
           WHEN b.batch_prev_version = b.stream_version - 1 THEN b.batch_prev_hash
           ELSE (SELECT p.hash FROM nl_events p WHERE p.stream_id = b.stream_id AND p.stream_version = b.stream_version - 1) END)
   ORDER BY b.ord LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'broken hash chain at event % (stream %, version %)', bad.event_id, bad.stream_id, bad.stream_version
      USING ERRCODE = 'NL422';
  END IF;

  INSERT INTO nl_events (stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at, prev_hash, hash)
  SELECT stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at, prev_hash, hash
    FROM nl_import_batch ORDER BY ord;
  GET DIAGNOSTICS n = ROW_COUNT;

  INSERT INTO nl_streams AS s (stream_id, stream_type, version, created_at, updated_at)
  SELECT stream_id, split_part(stream_id, '-', 1), max(stream_version), min(recorded_at), max(recorded_at)
    FROM nl_import_batch GROUP BY stream_id
  ON CONFLICT (stream_id) DO UPDATE SET version = greatest(s.version, excluded.version), updated_at = excluded.updated_at;
  RETURN n;
END $$;
