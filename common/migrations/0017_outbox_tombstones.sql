-- A row with no payload is a tombstone: the relay publishes its key with a null value, which
-- tells a compacted topic (conveyor.tasks, docs/events.md) that the task is gone.
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;
