-- The execution engine (docs/handlers.md): per-type timeouts, attempts and cancellation
-- behaviour; run ownership with a heartbeat, attempts and retry waits, cancellation requests,
-- and what a handler leaves on its run.

ALTER TABLE task_types
  ADD COLUMN timeout_seconds   integer CHECK (timeout_seconds > 0),
  ADD COLUMN max_attempts      integer NOT NULL DEFAULT 1 CHECK (max_attempts BETWEEN 1 AND 100),
  ADD COLUMN retry_backoff_ms  integer NOT NULL DEFAULT 1000 CHECK (retry_backoff_ms >= 0),
  ADD COLUMN cancellation      text NOT NULL DEFAULT 'CanCancel'
    CHECK (cancellation IN ('CanCancel', 'CancelWithWarning', 'CannotCancel'));

INSERT INTO task_types (id, name, handler, builtin)
VALUES ('00000000-0000-0000-0000-000000000002', 'sleep', 'sleep', true);

ALTER TABLE runs
  ADD COLUMN attempt              integer NOT NULL DEFAULT 1,
  ADD COLUMN heartbeat_at         timestamptz,
  ADD COLUMN not_before           timestamptz,
  ADD COLUMN cancel_requested_at  timestamptz,
  ADD COLUMN progress_at          timestamptz,
  ADD COLUMN file_name            text,
  ADD COLUMN log                  text NOT NULL DEFAULT '';
