-- The free-address search walks a subnet's allocations in address order and stops at the first
-- free stretches (src/app/networking/free-addresses.ts): that needs them ordered by address within
-- the subnet. The index on subnet_id alone is a prefix of this one.
CREATE INDEX rm_ip_allocations_subnet_address ON rm_ip_allocations (subnet_id, ip_address);
DROP INDEX rm_ip_allocations_subnet;
