-- The appender-only horizon of 008_a let a subscriber skip an event: under 20 concurrent writers
-- plus a late-committing appender (test/store/read-all.test.ts), the subscriber missed one event in
-- about one run in four, while the cluster-wide bound never did in six runs beside it. Until that race
-- is understood, every reader takes the cluster-wide bound again: the oldest transaction still running
-- anywhere holds readers back, so nothing can ever be overtaken. Appenders still announce themselves
-- (nl_begin_append), so a rebuild can still lock them out, and a corrected horizon is one function away.
CREATE OR REPLACE FUNCTION nl_log_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $$
  SELECT pg_snapshot_xmin(pg_current_snapshot())
$$;
