-- Set-based invariants of routers, floating IPs and security groups, enforced inside the append
-- transaction: a unique violation here vetoes the append and the command is retried with fresh facts.

-- One default security group per project: its lazy creation on a project's first request may race.
CREATE TABLE rm_default_security_groups (
  project_id text PRIMARY KEY,
  group_id   uuid NOT NULL UNIQUE
);

-- Every floating IP and where it points. A fixed IP of a port holds at most one floating IP per
-- external network (NULLs of unassociated rows never collide). The address itself is unique through
-- the hidden network:floatingip port's row in rm_ip_allocations.
CREATE TABLE rm_floating_ips (
  floating_ip_id      uuid PRIMARY KEY,
  floating_network_id uuid NOT NULL,
  port_id             uuid,
  fixed_ip_address    inet,
  router_id           uuid,
  UNIQUE (floating_network_id, port_id, fixed_ip_address)
);
CREATE INDEX rm_floating_ips_port ON rm_floating_ips (port_id) WHERE port_id IS NOT NULL;
CREATE INDEX rm_floating_ips_router ON rm_floating_ips (router_id) WHERE router_id IS NOT NULL;
