-- Set-based invariants of networking, enforced inside the append transaction: a unique violation
-- here vetoes the append and the command is retried with fresh facts.

-- One holder per address per network.
CREATE TABLE rm_ip_allocations (
  network_id uuid NOT NULL,
  ip_address inet NOT NULL,
  subnet_id  uuid NOT NULL,
  port_id    uuid NOT NULL,
  PRIMARY KEY (network_id, ip_address)
);
CREATE INDEX rm_ip_allocations_subnet ON rm_ip_allocations (subnet_id);
CREATE INDEX rm_ip_allocations_port ON rm_ip_allocations (port_id);

-- One port per MAC per network.
CREATE TABLE rm_port_macs (
  network_id  uuid NOT NULL,
  mac_address macaddr NOT NULL,
  port_id     uuid NOT NULL,
  PRIMARY KEY (network_id, mac_address)
);

-- One network per segment (VNI, VLAN on a physnet, flat physnet).
CREATE TABLE rm_segments (
  network_type     text NOT NULL,
  physical_network text NOT NULL DEFAULT '',
  segmentation_id  int NOT NULL DEFAULT 0,
  network_id       uuid NOT NULL UNIQUE,
  PRIMARY KEY (network_type, physical_network, segmentation_id)
);
