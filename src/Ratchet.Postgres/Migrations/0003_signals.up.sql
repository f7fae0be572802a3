-- Buffered signals: sent to a workflow that did not wait for them yet, consumed (deleted) by the commit that
-- completes the wait for their name. seq orders a workflow's pending signals.
CREATE TABLE signals (
    workflow_id text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    name        text COLLATE "C" NOT NULL,
    payload     text,
    sent_at     bigint NOT NULL,
    PRIMARY KEY (workflow_id, seq)
);

CREATE INDEX ix_signals_name ON signals (workflow_id, name, seq);

-- A refused signal condition (a consume of a signal no longer pending, a pending signal a park expected not to find)
-- aborts the commit's implicit transaction like the other refusals; DETAIL says which.
CREATE FUNCTION ratchet_signal_refused(p_id text, p_what text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signal condition of workflow % refused: %', p_id, p_what USING ERRCODE = 'RT411', DETAIL = p_what;
END $$;
