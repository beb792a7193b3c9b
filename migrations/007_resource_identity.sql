-- Identity of resources: a client-chosen id must never reach another resource.

-- Every id a resource has ever had, whatever its kind or project, with the stream that holds it.
-- The read model claims an id in the append transaction that first exposes it, and a claim by
-- another stream (or another kind in the same stream) vetoes that append with ResourceIdInUse.
-- Claims are never released: Neutron never reuses an id, and a deleted resource's stream still
-- holds its history (a resource of another kind under that id would share its audit trail).
CREATE TABLE rm_resource_ids (
  id        uuid PRIMARY KEY,
  kind      text NOT NULL,
  stream_id text NOT NULL
);

-- A read-model row belongs to the stream that exposes it. Keyed by (stream, kind, id), an id that
-- a log written before the registry shares between two resources gives each its own row instead
-- of one overwriting the other (and a rebuild of such a log no longer fails).
ALTER TABLE rm_resources DROP CONSTRAINT rm_resources_pkey;
ALTER TABLE rm_resources ADD PRIMARY KEY (stream_id, kind, id);
DROP INDEX rm_resources_stream;
CREATE INDEX rm_resources_id ON rm_resources (id);

-- Claims for what is already there: live rows, then the streams of deleted top-level resources.
-- Ids that only deleted nested objects (rules, load-balancer children) had are known to the log
-- alone: `netledger projections rebuild` completes the registry from it.
INSERT INTO rm_resource_ids (id, kind, stream_id)
  SELECT id, kind, stream_id FROM rm_resources ORDER BY created_at, stream_id, kind
  ON CONFLICT (id) DO NOTHING;
INSERT INTO rm_resource_ids (id, kind, stream_id)
  SELECT substr(s.stream_id, length(s.stream_type) + 2)::uuid, k.kind, s.stream_id
    FROM nl_streams s
    JOIN (VALUES ('network', 'network'), ('subnet', 'subnet'), ('port', 'port'), ('router', 'router'), ('floatingip', 'floatingip'),
                 ('securitygroup', 'security_group'), ('loadbalancer', 'loadbalancer'), ('firewallrule', 'firewall_rule'),
                 ('firewallpolicy', 'firewall_policy'), ('firewallgroup', 'firewall_group')) AS k (stream_type, kind)
      ON k.stream_type = s.stream_type
   WHERE substr(s.stream_id, length(s.stream_type) + 2) ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
   ORDER BY s.created_at, s.stream_id
  ON CONFLICT (id) DO NOTHING;
