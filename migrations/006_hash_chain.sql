-- Tamper evidence: every event carries the hash of its stream's previous event and its own hash,
-- sha256(prev_hash || canonical content). Changing, removing or reordering a stored event breaks
-- the chain at that event; `netledger audit verify` names the first broken link.

-- The canonical content: fields joined by newlines. jsonb::text is canonical (keys sorted, one
-- spelling per value), so the same event always hashes the same in any database.
CREATE FUNCTION nl_event_hash(p_prev bytea, p_event_id uuid, p_type text, p_schema_version int, p_data jsonb, p_metadata jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(p_prev || convert_to(p_event_id::text || E'\n' || p_type || E'\n' || p_schema_version::text || E'\n'
                                     || p_data::text || E'\n' || p_metadata::text, 'UTF8'))
$$;

ALTER TABLE nl_events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

-- Events stored before this migration get their chains now (the append-only trigger is lifted
-- for this one statement only).
ALTER TABLE nl_events DISABLE TRIGGER nl_events_no_update;
DO $$
DECLARE
  r record;
  prev bytea;
  prev_stream text := NULL;
BEGIN
  FOR r IN SELECT stream_id, stream_version, event_id, event_type, schema_version, data, metadata
             FROM nl_events ORDER BY stream_id, stream_version LOOP
    IF prev_stream IS DISTINCT FROM r.stream_id THEN prev := ''::bytea; prev_stream := r.stream_id; END IF;
    UPDATE nl_events SET prev_hash = prev,
           hash = nl_event_hash(prev, r.event_id, r.event_type, r.schema_version, r.data, r.metadata)
     WHERE stream_id = r.stream_id AND stream_version = r.stream_version
     RETURNING hash INTO prev;
  END LOOP;
END $$;
ALTER TABLE nl_events ENABLE TRIGGER nl_events_no_update;
ALTER TABLE nl_events ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

-- Same signature and behaviour as 001's, plus the chain. The stream row is still the first write,
-- so its row lock orders concurrent appends to one stream and the previous hash cannot move.
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

-- Re-appends exported events into a log that holds none of their streams' earlier events:
-- event ids, versions, metadata and recorded_at are kept; positions are new (in the order given).
-- p_events is a JSON array of {eventId, streamId, streamVersion, type, schemaVersion, recordedAt,
-- data, metadata, prevHash, hash} (hashes hex). Every row's hashes are checked against its content
-- and its stream's previous event; the first mismatch raises NL422 naming the event.
CREATE FUNCTION nl_import(p_events jsonb) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int;
  bad record;
BEGIN
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

-- Every broken link of the whole log in global order (the first is the one to name), or no row
-- when every chain holds.
-- Also catches a removed event (a version gap, or a stream whose version says there is more).
CREATE FUNCTION nl_verify_chain()
RETURNS TABLE (event_id uuid, stream_id text, stream_version bigint, transaction_id xid8, global_position bigint, problem text)
LANGUAGE sql STABLE AS $$
  WITH chained AS (
    SELECT e.event_id, e.stream_id, e.stream_version, e.global_position, e.transaction_id, e.prev_hash, e.hash,
           nl_event_hash(e.prev_hash, e.event_id, e.event_type, e.schema_version, e.data, e.metadata) AS computed,
           lag(e.hash) OVER w AS prev_actual, lag(e.stream_version) OVER w AS prev_version
      FROM nl_events e
    WINDOW w AS (PARTITION BY e.stream_id ORDER BY e.stream_version)
  ), broken AS (
    SELECT c.event_id, c.stream_id, c.stream_version, c.global_position, c.transaction_id,
           CASE
             WHEN c.stream_version <> coalesce(c.prev_version, 0) + 1 THEN format('version %s follows %s: an event is missing', c.stream_version, coalesce(c.prev_version, 0))
             WHEN c.hash IS DISTINCT FROM c.computed THEN 'content does not match its hash'
             WHEN c.prev_hash IS DISTINCT FROM coalesce(c.prev_actual, ''::bytea) THEN 'previous hash does not match the previous event'
           END AS problem
      FROM chained c
  )
  SELECT b.event_id, b.stream_id, b.stream_version, b.transaction_id, b.global_position, b.problem
    FROM broken b WHERE b.problem IS NOT NULL
  UNION ALL
  SELECT NULL::uuid, s.stream_id, s.version, NULL::xid8, NULL::bigint, format('stream is at version %s but its last event is %s', s.version, coalesce(m.v, 0))
    FROM nl_streams s LEFT JOIN (SELECT e.stream_id, max(e.stream_version) AS v FROM nl_events e GROUP BY e.stream_id) m ON m.stream_id = s.stream_id
   WHERE s.version <> coalesce(m.v, 0)
   ORDER BY 4 NULLS LAST, 5
$$;
