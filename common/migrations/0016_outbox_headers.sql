-- The Kafka headers of each notification (ce_type and ce_id: docs/events.md), kept with it so
-- that the relay publishes the message as it was built. A JSON array of [name, value] pairs.
ALTER TABLE outbox ADD COLUMN headers jsonb NOT NULL DEFAULT '[]'::jsonb;
