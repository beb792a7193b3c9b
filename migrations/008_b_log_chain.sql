-- The whole log as one chain, and least privilege for the server.
--
-- Each stream's chain (006) cannot see an event edited with its stream's hashes recomputed, a
-- stream's tail cut with nl_streams.version rewound, or a stream deleted whole. nl_log_chain links
-- every event in the one global order (readAll's: no event is ever inserted behind the head), each
-- link sha256(previous link || position || stream, version, event id || the event's hash), written
-- by a sealer that follows the log. Its head is signed now and then with a key kept outside
-- PostgreSQL (nl_audit_checkpoints), so rewriting the chain too shows as well.

CREATE FUNCTION nl_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'NL001';
END $$;

CREATE TABLE nl_log_chain (
  seq             bigint PRIMARY KEY,       -- 1, 2, 3 … without gaps: the number of events sealed so far
  transaction_id  xid8 NOT NULL,
  global_position bigint NOT NULL UNIQUE,
  stream_id       text NOT NULL,
  stream_version  bigint NOT NULL,
  event_id        uuid NOT NULL,
  link            bytea NOT NULL
);
CREATE TRIGGER nl_log_chain_no_update BEFORE UPDATE OR DELETE ON nl_log_chain
  FOR EACH ROW EXECUTE FUNCTION nl_append_only();
CREATE TRIGGER nl_log_chain_no_truncate BEFORE TRUNCATE ON nl_log_chain
  FOR EACH STATEMENT EXECUTE FUNCTION nl_append_only();

CREATE TABLE nl_audit_checkpoints (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seq             bigint NOT NULL,          -- events covered: the chain's length when signed
  transaction_id  xid8 NOT NULL,            -- the last covered event's position (its cursor)
  global_position bigint NOT NULL,
  head            bytea NOT NULL,           -- nl_log_chain.link at seq
  signed_at       timestamptz NOT NULL,
  key_id          text NOT NULL,            -- sha256 of the public key (DER), hex
  public_key      text NOT NULL,            -- PEM, for an auditor's convenience only: verify trusts its own copy
  signature       bytea NOT NULL
);
CREATE TRIGGER nl_audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON nl_audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION nl_append_only();
CREATE TRIGGER nl_audit_checkpoints_no_truncate BEFORE TRUNCATE ON nl_audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION nl_append_only();

-- What the server's own role may do, granted again on every start (so tables added by later
-- migrations are covered): every table's rows, except the log, which it may only read and append
-- to. It owns nothing, so it can neither alter a table nor disable a trigger.
CREATE FUNCTION nl_grant_app(p_role name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  s name := current_schema();
BEGIN
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), p_role);
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, p_role);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I TO %I', s, p_role);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', s, p_role);
  EXECUTE format('REVOKE ALL ON nl_events, nl_log_chain, nl_audit_checkpoints, nl_migrations FROM %I', p_role);
  EXECUTE format('GRANT SELECT, INSERT ON nl_events, nl_log_chain, nl_audit_checkpoints TO %I', p_role);
  EXECUTE format('GRANT SELECT ON nl_migrations TO %I', p_role);
  -- Appends create streams and move their version; nothing removes one.
  EXECUTE format('REVOKE DELETE, TRUNCATE ON nl_streams FROM %I', p_role);
END $$;
