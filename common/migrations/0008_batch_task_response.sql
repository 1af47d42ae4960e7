-- SuperOffice UpdateBatchTask (docs/superoffice.md): the Response a caller set. NULL: the
-- BatchTaskInfo shows the latest run's result as its Response.

ALTER TABLE tasks ADD COLUMN response text;
