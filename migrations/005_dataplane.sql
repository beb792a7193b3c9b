-- Dataplane agents. rm_agents is the folded Agent aggregate (registration, heartbeats), kept by the
-- agent commands' own inline projection and rebuilt from the log like the rest of the read model.
CREATE TABLE rm_agents (
  id                uuid PRIMARY KEY,
  host              text NOT NULL UNIQUE,
  version           bigint NOT NULL,
  last_heartbeat_at timestamptz NOT NULL,
  stopped           boolean NOT NULL,
  state             jsonb NOT NULL
);

-- How far each agent has applied the log: progress, not history (like nl_checkpoints). An agent
-- overwrites its row after every pass that left its host converged, so it is not an event and a
-- read-model rebuild leaves it alone; `cursor` is the opaque log cursor of the last event covered.
CREATE TABLE rm_agent_applied (
  host       text PRIMARY KEY,
  cursor     text NOT NULL,
  applied_at timestamptz NOT NULL
);
