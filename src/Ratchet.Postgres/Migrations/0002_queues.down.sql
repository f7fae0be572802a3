DROP TABLE queue_starts;
DROP INDEX ix_workflows_queue_lease;
DROP INDEX ix_workflows_queue_due;
ALTER TABLE workflows DROP COLUMN queue_priority;
ALTER TABLE workflows DROP COLUMN queue_partition;
ALTER TABLE workflows DROP COLUMN queue;
