-- The read model. Everything here is rebuilt from nl_events by `netledger projections rebuild`.

-- Each aggregate's folded state (its decider's own evolve), so commands load one row instead of
-- replaying a stream, and readers see exactly what deciders see.
CREATE TABLE rm_aggregates (
  stream_id text PRIMARY KEY,
  version   bigint NOT NULL,
  state     jsonb NOT NULL
);

-- Every live resource, for queries: indexed keys plus the resource document.
CREATE TABLE rm_resources (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL,
  stream_id   text NOT NULL,
  project_id  text NOT NULL,
  name        text NOT NULL DEFAULT '',
  tags        text[] NOT NULL DEFAULT '{}',
  network_id  uuid,
  revision    bigint NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  doc         jsonb NOT NULL
);
CREATE INDEX rm_resources_stream ON rm_resources (stream_id);
CREATE INDEX rm_resources_list ON rm_resources (kind, project_id, created_at, id);
CREATE INDEX rm_resources_kind_order ON rm_resources (kind, created_at, id);
CREATE INDEX rm_resources_network ON rm_resources (kind, network_id) WHERE network_id IS NOT NULL;
CREATE INDEX rm_resources_name ON rm_resources (kind, name);
CREATE INDEX rm_resources_tags ON rm_resources USING gin (tags);

-- Projects and their API tokens (hash only).
CREATE TABLE rm_projects (
  id         uuid PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);
CREATE TABLE rm_tokens (
  token_id    uuid PRIMARY KEY,
  project_id  uuid NOT NULL,
  name        text NOT NULL,
  role        text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  revoked     boolean NOT NULL DEFAULT false,
  issued_at   timestamptz NOT NULL
);

-- Quotas: explicit limits (defaults live in code) and live usage. The usage row is updated in the
-- append transaction, so its row lock makes concurrent creates in one project count exactly.
CREATE TABLE rm_quota_limits (
  project_id text NOT NULL,
  resource   text NOT NULL,
  max_count  int NOT NULL,
  PRIMARY KEY (project_id, resource)
);
CREATE TABLE rm_quota_usage (
  project_id text NOT NULL,
  resource   text NOT NULL,
  used       int NOT NULL,
  PRIMARY KEY (project_id, resource)
);
