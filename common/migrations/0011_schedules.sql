-- Scheduled and recurring tasks (docs/scheduling.md).

-- A task's scheduling extension (recurrence rule, time zone, catch-up and overlap policies) as
-- ScheduleToJson writes it: {} for a task without it.
ALTER TABLE tasks ADD COLUMN schedule jsonb NOT NULL DEFAULT '{}';
ALTER TABLE accepted_tasks ADD COLUMN schedule jsonb NOT NULL DEFAULT '{}';
-- The same definition as in 0010; `t.*` now includes the new column.
CREATE OR REPLACE VIEW current_tasks AS
  SELECT t.* FROM tasks t
   WHERE NOT EXISTS (SELECT 1 FROM accepted_tasks a
                      WHERE a.id = t.id AND a.command_offset > t.command_offset)
  UNION ALL
  SELECT a.* FROM accepted_tasks a
   WHERE NOT EXISTS (SELECT 1 FROM tasks t
                      WHERE t.id = a.id AND t.command_offset >= a.command_offset);

-- When each task that runs on a schedule is due next, written by the worker that applies its
-- create and updates, and advanced by the schedulers as they fire. next_due_at is the earliest
-- due time not fired yet; NULL when none is left (past FinishDate), or the task is disabled or
-- deleted. The partial index is all a scheduler reads when nothing is due.
CREATE TABLE schedules (
  task_id      uuid PRIMARY KEY REFERENCES tasks (id),
  next_due_at  timestamptz,
  last_due_at  timestamptz
);
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE next_due_at IS NOT NULL;

-- A scheduled run records the due time it was fired for. A due time that came while the
-- task's previous run still ran is recorded as a run in state 'skipped' (the SKIP overlap
-- policy): final, never started; with BUFFER_ONE it is queued with after_run naming the run
-- it waits for, and starts only once that one has finished.
ALTER TABLE runs ADD COLUMN due_at timestamptz, ADD COLUMN after_run uuid;
ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
  CHECK (state IN ('queued', 'acquired', 'started', 'retry_wait', 'succeeded', 'failed',
                   'cancelled', 'skipped'));
