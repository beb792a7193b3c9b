-- Batched appends in one INSERT, and a hash that PostgreSQL can inline (issue 21).
--
-- nl_event_hash was declared IMMUTABLE around convert_to(), which is STABLE; PostgreSQL inlines a
-- SQL function only when its body is no more volatile than its declaration, so every hash went
-- through the SQL-function executor: about 3x the cost of the sha256 itself. STABLE lets it inline.
-- The bytes hashed, hence every stored hash, are unchanged; no index or constraint uses it.
ALTER FUNCTION nl_event_hash(bytea, uuid, text, int, jsonb, jsonb) STABLE;

-- Same signature and behaviour as 008_a's (the appender announced first, the stream row the first
-- write, the same errors and idempotent re-send), but the events go in as one INSERT instead of one
-- INSERT per event. Only the chain is computed event by event: each hash covers the previous one,
-- a fold no set-based expression evaluates more cheaply (a recursive CTE measured slower than this
-- loop, which only hashes). The INSERT takes the events in their order, so positions follow
-- versions, and returns them in that order.
CREATE OR REPLACE FUNCTION nl_append(p_stream text, p_stream_type text, p_expected bigint, p_events jsonb, p_metadata jsonb)
RETURNS TABLE (stream_version bigint, global_position bigint, transaction_id xid8, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  n int := jsonb_array_length(p_events);
  ids uuid[];
  known int;
  v_new bigint;
  h bytea;
  chain bytea[];
  e jsonb;
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

  -- chain[k] is the hash before event k, chain[k + 1] its own.
  h := coalesce((SELECT ev.hash FROM nl_events ev WHERE ev.stream_id = p_stream AND ev.stream_version = v_new - n), ''::bytea);
  chain := ARRAY[h];
  FOR e IN SELECT u.x FROM jsonb_array_elements(p_events) WITH ORDINALITY AS u(x, o) ORDER BY u.o LOOP
    h := nl_event_hash(h, (e->>'id')::uuid, e->>'type', (e->>'version')::int, e->'data', p_metadata);
    chain := chain || h;
  END LOOP;

  RETURN QUERY
  INSERT INTO nl_events AS ev (stream_id, stream_version, event_id, event_type, schema_version, data, metadata, prev_hash, hash)
  SELECT p_stream, v_new - n + u.o, (u.x->>'id')::uuid, u.x->>'type', (u.x->>'version')::int, u.x->'data', p_metadata,
         chain[u.o], chain[u.o + 1]
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS u(x, o)
   ORDER BY u.o
  RETURNING ev.stream_version, ev.global_position, ev.transaction_id, ev.recorded_at;
END $$;
