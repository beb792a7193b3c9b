-- The event log. Streams hold the optimistic-concurrency version; events are append-only.
-- Global order is (transaction_id, global_position): readers only read below the oldest running
-- transaction id (pg_snapshot_xmin), so an event whose transaction began early and commits late is
-- never skipped (see shared/reference/eventstore-design.md, section 1).

CREATE TABLE nl_streams (
  stream_id   text PRIMARY KEY,
  stream_type text NOT NULL,
  version     bigint NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nl_events (
  global_position bigint GENERATED ALWAYS AS IDENTITY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text NOT NULL,
  stream_version  bigint NOT NULL,
  event_id        uuid NOT NULL,
  event_type      text NOT NULL,
  schema_version  int NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- Every index costs each append: readStream uses the primary key, readAll the global order,
  -- idempotent re-sends the event id. global_position needs no index of its own.
  PRIMARY KEY (stream_id, stream_version),
  UNIQUE (event_id)
);
CREATE INDEX nl_events_global_order ON nl_events (transaction_id, global_position);

CREATE FUNCTION nl_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'nl_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'NL001';
END $$;
CREATE TRIGGER nl_events_no_update BEFORE UPDATE OR DELETE ON nl_events
  FOR EACH ROW EXECUTE FUNCTION nl_events_append_only();
CREATE TRIGGER nl_events_no_truncate BEFORE TRUNCATE ON nl_events
  FOR EACH STATEMENT EXECUTE FUNCTION nl_events_append_only();

-- Appends events to one stream in one statement. The stream row is the first write, so the
-- transaction id (and thus the global order) of a stream's events follows its version order.
-- p_events is a JSON array of {id, type, version, data}; every event gets p_metadata.
-- expected: -1 any, -2 no stream (as is 0), -3 stream exists, > 0 exact version.
-- Raises NL409 on a version conflict, NL410 when only some event ids are already stored.
-- Returns one row per stored event (version, position, transaction id, recorded time), or no rows
-- when every event id was already stored in this stream (an idempotent re-send).
CREATE FUNCTION nl_append(p_stream text, p_stream_type text, p_expected bigint, p_events jsonb, p_metadata jsonb)
RETURNS TABLE (stream_version bigint, global_position bigint, transaction_id xid8, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  n int := jsonb_array_length(p_events);
  ids uuid[];
  known int;
  v_new bigint;
BEGIN
  SELECT array_agg((e->>'id')::uuid) INTO ids FROM jsonb_array_elements(p_events) e;
  SELECT count(*) INTO known FROM nl_events WHERE event_id = ANY (ids);
  IF known > 0 THEN
    IF known = n AND NOT EXISTS (SELECT 1 FROM nl_events WHERE event_id = ANY (ids) AND stream_id <> p_stream) THEN
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
      RETURNING version INTO v_new;
  ELSE
    UPDATE nl_streams SET version = version + n, updated_at = now()
      WHERE stream_id = p_stream AND (p_expected = -3 OR version = p_expected)
      RETURNING version INTO v_new;
    IF v_new IS NULL THEN
      RAISE EXCEPTION 'stream % is not at the expected version %', p_stream, p_expected USING ERRCODE = 'NL409';
    END IF;
  END IF;

  RETURN QUERY
  INSERT INTO nl_events AS ev (stream_id, stream_version, event_id, event_type, schema_version, data, metadata)
  SELECT p_stream, v_new - n + o, (e->>'id')::uuid, e->>'type', (e->>'version')::int, e->'data', p_metadata
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS u(e, o)
  RETURNING ev.stream_version, ev.global_position, ev.transaction_id, ev.recorded_at;
END $$;

-- Named consumers (projections, subscribers, agents) remember where they are.
CREATE TABLE nl_checkpoints (
  name       text PRIMARY KEY,
  position   text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
