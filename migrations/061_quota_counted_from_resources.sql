-- Quota usage is counted from rm_resources when a limit is checked or shown
-- (src/projections/quota-usage.ts) rather than kept in a per-project counter row: every create
-- upserted that row, even with the quota unlimited, and held its lock until commit, so concurrent
-- creates in one project queued on it. rm_resources_list (kind, project_id, ...) serves the count.
DROP TABLE rm_quota_usage;
