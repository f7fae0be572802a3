-- Buffered signals: sent to a workflow that did not wait for them yet, consumed (deleted) by the commit that
-- completes the wait for their name. seq orders a workflow's pending signals; name is indexed within the workflow.
CREATE TABLE signals (
    workflow INTEGER NOT NULL REFERENCES workflows (pk) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    payload  TEXT,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (workflow, seq)
) WITHOUT ROWID;

CREATE INDEX ix_signals_name ON signals (workflow, name, seq);
