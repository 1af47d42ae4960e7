-- Task types granted to named clients only (docs/task-types.md): NULL is a type every client
-- may use (a system type); otherwise only the clients listed may create tasks of it or see it.
ALTER TABLE task_types ADD COLUMN clients uuid[];
