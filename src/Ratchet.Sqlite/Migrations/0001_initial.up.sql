-- Ratchet store schema 1. Times are microseconds since the Unix epoch (UTC); JSON values are text.
--
-- Layout for write locality: workflows carry an internal integer key in creation order, and journals, audit trails
-- and commands are WITHOUT ROWID tables keyed by (that key, seq). Workflows that run together were created together,
-- so one group commit of many steps dirties few, adjacent pages instead of one random page per row (ids are random).

CREATE TABLE workflows (
    pk                 INTEGER PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    type               TEXT    NOT NULL,
    definition_version TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    wait_reason        TEXT    NOT NULL,
    wait_detail        TEXT,
    current_node       TEXT,
    input              TEXT,
    artifacts          TEXT    NOT NULL,
    metadata           TEXT,
    parent_id          TEXT,
    attempt            INTEGER NOT NULL,
    due_at             INTEGER,
    lease_owner        TEXT,
    lease_expires_at   INTEGER,
    version            INTEGER NOT NULL,
    error              TEXT,
    trace_parent       TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    completed_at       INTEGER,
    archived_at        INTEGER
);

-- Listings page by (created_at, id); status and type filters narrow them.
CREATE INDEX ix_workflows_created ON workflows (created_at, id);
CREATE INDEX ix_workflows_status_created ON workflows (status, created_at, id);
CREATE INDEX ix_workflows_type_created ON workflows (type, created_at, id);
-- Only schedulable rows are indexed by due time, so the index stays as small as the backlog.
CREATE INDEX ix_workflows_due ON workflows (due_at, id) WHERE due_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX ix_workflows_parent ON workflows (parent_id) WHERE parent_id IS NOT NULL;
-- A worker renews all of its leases in one statement.
CREATE INDEX ix_workflows_lease ON workflows (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX ix_workflows_completed ON workflows (completed_at) WHERE completed_at IS NOT NULL AND archived_at IS NULL;

CREATE TABLE steps (
    workflow    INTEGER NOT NULL REFERENCES workflows (pk) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    node        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    output      TEXT,
    error       TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    PRIMARY KEY (workflow, seq)
) WITHOUT ROWID;

CREATE TABLE events (
    workflow    INTEGER NOT NULL REFERENCES workflows (pk) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    node        TEXT,
    attempt     INTEGER,
    payload     TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (workflow, seq)
) WITHOUT ROWID;

CREATE TABLE commands (
    workflow          INTEGER NOT NULL REFERENCES workflows (pk) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    node              TEXT    NOT NULL,
    attempt           INTEGER NOT NULL,
    command_line      TEXT    NOT NULL,
    working_directory TEXT    NOT NULL,
    exit_code         INTEGER,
    duration_us       INTEGER NOT NULL,
    stdout_tail       TEXT    NOT NULL,
    stderr_tail       TEXT    NOT NULL,
    started_at        INTEGER NOT NULL,
    PRIMARY KEY (workflow, seq)
) WITHOUT ROWID;

CREATE TABLE workspaces (
    workflow_id  TEXT    NOT NULL PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    path         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

CREATE INDEX ix_workspaces_status ON workspaces (status, workflow_id);

CREATE TABLE kv (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    namespace   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    entry_count INTEGER NOT NULL,
    entries     TEXT    NOT NULL,
    PRIMARY KEY (namespace, name)
);
