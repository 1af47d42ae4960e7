-- TwoSms DELETE api/v2/admin/tasks/account/{id} (conveyor.task.delete): a deleted task is kept,
-- with its runs and its events in the inbox, but marked; every read treats it as not found.
-- The indexes serve the paged list (GET api/v2/admin/tasks/account), in creation order,
-- across all clients or for one.

ALTER TABLE tasks
  ADD COLUMN deleted_at timestamptz,
  ADD COLUMN deleted_by text;

CREATE INDEX tasks_live_in_creation_order ON tasks (created_at, number)
  WHERE deleted_at IS NULL;
CREATE INDEX tasks_live_by_client ON tasks (client_id, created_at, number)
  WHERE deleted_at IS NULL;
