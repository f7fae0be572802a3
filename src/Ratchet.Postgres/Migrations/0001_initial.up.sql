-- Ratchet store schema 1 on PostgreSQL. Runs with search_path set to the store's schema, so names are unqualified.
-- Times are microseconds since the Unix epoch (UTC) as bigint: exact both ways, like the other backends.
-- JSON is text, not jsonb: jsonb reorders keys, drops duplicates and normalises numbers, and a store must return
-- exactly what it was given. Identifiers and keys use the "C" collation so that ordering and paging compare bytes.

CREATE TABLE workflows (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY,
    type               text COLLATE "C" NOT NULL,
    definition_version text   NOT NULL,
    status             text   NOT NULL,
    wait_reason        text   NOT NULL,
    wait_detail        text,
    current_node       text,
    input              text,
    artifacts          text   NOT NULL,
    metadata           text,
    parent_id          text COLLATE "C",
    attempt            integer NOT NULL,
    due_at             bigint,
    lease_owner        text,
    lease_expires_at   bigint,
    version            bigint NOT NULL,
    error              text,
    trace_parent       text,
    created_at         bigint NOT NULL,
    updated_at         bigint NOT NULL,
    completed_at       bigint,
    archived_at        bigint,
    -- The last sequence handed out to the workflow's journal, audit trail and commands. Appends bump them in the
    -- same statement that writes the workflow, so sequences need no extra read and concurrent appends serialise on
    -- the row lock instead of colliding on the journal's primary key.
    step_seq           bigint NOT NULL DEFAULT 0,
    event_seq          bigint NOT NULL DEFAULT 0,
    command_seq        bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 80);

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
    workflow_id text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    seq         bigint  NOT NULL,
    node        text    NOT NULL,
    attempt     integer NOT NULL,
    outcome     text    NOT NULL,
    output      text,
    error       text,
    started_at  bigint  NOT NULL,
    finished_at bigint  NOT NULL,
    PRIMARY KEY (workflow_id, seq)
);

CREATE TABLE events (
    workflow_id text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    seq         bigint  NOT NULL,
    type        text    NOT NULL,
    node        text,
    attempt     integer,
    payload     text,
    at          bigint  NOT NULL,
    PRIMARY KEY (workflow_id, seq)
);

CREATE TABLE commands (
    workflow_id       text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    seq               bigint  NOT NULL,
    node              text    NOT NULL,
    attempt           integer NOT NULL,
    command_line      text    NOT NULL,
    working_directory text    NOT NULL,
    exit_code         integer,
    duration_us       bigint  NOT NULL,
    stdout_tail       text    NOT NULL,
    stderr_tail       text    NOT NULL,
    started_at        bigint  NOT NULL,
    PRIMARY KEY (workflow_id, seq)
);

CREATE TABLE workspaces (
    workflow_id  text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    path         text   NOT NULL,
    status       text   NOT NULL,
    created_at   bigint NOT NULL,
    heartbeat_at bigint NOT NULL
);

CREATE INDEX ix_workspaces_status ON workspaces (status, workflow_id);

CREATE TABLE kv (
    namespace  text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      text   NOT NULL,
    version    bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (namespace, key)
);

CREATE TABLE checkpoints (
    namespace   text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    created_at  bigint  NOT NULL,
    entry_count integer NOT NULL,
    entries     text    NOT NULL,
    PRIMARY KEY (namespace, name)
);

-- A refused condition inside a one-round-trip commit must abort the whole implicit transaction, so it raises. The
-- SQLSTATE and detail tell the store which Ratchet exception to throw; the version is read in a fresh statement
-- snapshot, after any concurrent writer that made the condition fail has committed.
CREATE FUNCTION ratchet_workflow_refused(p_id text, p_expected bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    actual bigint;
BEGIN
    SELECT version INTO actual FROM workflows WHERE id = p_id;
    IF actual IS NULL AND p_expected > 0 THEN
        RAISE EXCEPTION 'workflow % not found', p_id USING ERRCODE = 'RT404', DETAIL = p_id;
    END IF;
    RAISE EXCEPTION 'workflow % is at version %, expected %', p_id, coalesce(actual, 0), p_expected
        USING ERRCODE = 'RT409', DETAIL = coalesce(actual, 0)::text;
END $$;

CREATE FUNCTION ratchet_value_refused(p_namespace text, p_key text, p_expected bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    actual bigint;
BEGIN
    SELECT version INTO actual FROM kv WHERE namespace = p_namespace AND key = p_key;
    RAISE EXCEPTION 'key % in namespace % is at version %, expected %', p_key, p_namespace, coalesce(actual, 0), p_expected
        USING ERRCODE = 'RT410', DETAIL = coalesce(actual, 0)::text;
END $$;
