-- Fewer writes per task (bench/README.md): the worker writes a task, its inbox row and its
-- run, then updates the run when it starts and when it ends.

-- Every read of tasks excludes deleted ones, so the partial indexes of 0004
-- (tasks_live_by_client, tasks_live_in_creation_order) answer everything these two did.
DROP INDEX tasks_client;
DROP INDEX tasks_created_at;

-- Only runs that are not final are looked up by state: a status filter for New or In
-- Progress narrows to the tasks with an unfinished run, then checks the latest run's state
-- (a filter for a final state matches most tasks and gains nothing from an index). No index
-- holds `state`, and free room is left in each page, so that the updates of a run that
-- does not end (started, heartbeat, progress, retry wait) are HOT: no index entry is added.
-- A run that ends leaves this index instead of adding an entry to it.
DROP INDEX runs_state;
CREATE INDEX runs_unfinished ON runs (task_id) WHERE finished_at IS NULL;
ALTER TABLE runs SET (fillfactor = 70);

-- The inbox keeps each event exactly as it was consumed; nothing queries inside it, and
-- parsing it into jsonb cost PostgreSQL more than any other column of the task. This
-- rewrites the inbox under an ACCESS EXCLUSIVE lock: with a large inbox, plan the upgrade
-- for a quiet time (workers wait for the lock; producers are not affected).
ALTER TABLE inbox ALTER COLUMN payload TYPE text;
