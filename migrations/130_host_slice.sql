-- An agent reads its own host's slice of the read model (issue 16, scale): the ports bound to it,
-- the members of the remote security groups its ports name, and the platform's own ports (DHCP,
-- router, HA) the schedulers place, each by index rather than by a scan of every port.
CREATE INDEX rm_resources_port_host ON rm_resources ((doc->>'bindingHost')) WHERE kind = 'port';
CREATE INDEX rm_resources_port_groups ON rm_resources USING gin ((doc->'securityGroups')) WHERE kind = 'port';
CREATE INDEX rm_resources_port_owner ON rm_resources ((doc->>'deviceOwner')) WHERE kind = 'port';
-- Every host reads the load balancers' states (`stream_id like 'loadbalancer-%'`): a prefix
-- match an index serves whatever the database's collation.
CREATE INDEX rm_aggregates_stream_prefix ON rm_aggregates (stream_id text_pattern_ops);
