-- Queues: a workflow's queue, partition key and priority (fixed at creation), and the starts that rate windows count.
ALTER TABLE workflows ADD COLUMN queue TEXT;
ALTER TABLE workflows ADD COLUMN queue_partition TEXT;
ALTER TABLE workflows ADD COLUMN queue_priority INTEGER NOT NULL DEFAULT 0;

-- Only workflows of a queue are indexed, so a store without queues pays nothing on its claims and commits.
CREATE INDEX ix_workflows_queue_due ON workflows (queue, queue_priority DESC, due_at, id)
    WHERE queue IS NOT NULL AND due_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX ix_workflows_queue_lease ON workflows (queue, lease_expires_at)
    WHERE queue IS NOT NULL AND lease_owner IS NOT NULL;

-- One row per start of a workflow of a rate-limited queue; claims delete the rows older than the queue's window.
CREATE TABLE queue_starts (
    pk    INTEGER PRIMARY KEY,
    queue TEXT    NOT NULL,
    at    INTEGER NOT NULL
);

CREATE INDEX ix_queue_starts ON queue_starts (queue, at);
