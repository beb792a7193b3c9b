-- The `events` query narrowed to a rare event type walked the global-order index over the whole
-- log to fill one page. This index gives it that type's events in log order directly, at the cost
-- of one more index entry per append.
CREATE INDEX nl_events_type_order ON nl_events (event_type, transaction_id, global_position);
