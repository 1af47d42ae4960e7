-- SuperOffice batch tasks (docs/superoffice.md): the owner's associate id (0 = a system task),
-- a description and the request text; indexes for the batch agent's list queries (by
-- associate, by task type name, by the latest run's state).

ALTER TABLE tasks
  ADD COLUMN associate_id integer NOT NULL DEFAULT 0 CHECK (associate_id >= 0),
  ADD COLUMN description  text NOT NULL DEFAULT '',
  ADD COLUMN request      text NOT NULL DEFAULT '';

CREATE INDEX tasks_associate ON tasks (associate_id, number);
CREATE INDEX tasks_type ON tasks (task_type_id, number);
CREATE INDEX runs_state ON runs (state, task_id);
