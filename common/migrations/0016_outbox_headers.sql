-- The Kafka headers of each notification (ce_type and ce_id: docs/events.md), kept with it so
-- that the relay publishes the message as it was built. A JSON array of [name, value] pairs.
ALTER TABLE outbox ADD COLUMN headers jsonb NOT NULL DEFAULT '[]'::jsonb;

-- A relay claims a row only when no earlier unsent row of its task (key) is held elsewhere
-- (PgOutboxStore::ClaimUnsent): this finds a task's unsent rows.
CREATE INDEX outbox_unsent_key ON outbox (key, id) WHERE sent_at IS NULL;
