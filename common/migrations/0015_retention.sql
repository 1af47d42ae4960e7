-- Retention (worker/src/retention.h): the inbox rows older than the inbox retention are found
-- by when they were applied.
CREATE INDEX inbox_applied ON inbox (applied_at);
