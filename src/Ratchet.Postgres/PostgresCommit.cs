using System.Globalization;
using Npgsql;
using Ratchet.Serialization;

namespace Ratchet.Postgres;

/// <summary>
/// A change set as one <see cref="NpgsqlBatch"/>: one round trip, run by PostgreSQL as one implicit transaction (a
/// batch carries a single Sync, so the first failing statement rolls back all of it). Conditions are statements that
/// raise when they do not hold, which is what makes the round trip atomic without a BEGIN/COMMIT exchange; the order
/// of statements is the contract's order of evaluation, so the first error raised is the one the contract names.
/// </summary>
internal sealed class PostgresCommit
{
    // A checked row is locked as a writer would lock it (FOR NO KEY UPDATE, not FOR SHARE): a change set that checks
    // and then writes the same row must not need to upgrade a shared lock, which deadlocks against a twin doing the same.
    // Statement texts are constant so that Npgsql's auto-preparation reuses one server-side plan for each.
    private const string CheckWorkflowSql =
        "WITH v AS (SELECT version FROM workflows WHERE id = $1 FOR NO KEY UPDATE) " +
        "SELECT ratchet_workflow_refused($1, $2) WHERE coalesce((SELECT version FROM v), 0) <> $2";

    private const string CheckValueSql =
        "WITH v AS (SELECT version FROM kv WHERE namespace = $1 AND key = $2 FOR NO KEY UPDATE) " +
        "SELECT ratchet_value_refused($1, $2, $3) WHERE coalesce((SELECT version FROM v), 0) <> $3";

    // A row lock cannot guard a row that does not exist yet: two change sets that both check "absent" and then write
    // it would both pass. Checks for absence first take a transaction-scoped advisory lock on the name, in a statement
    // of its own so that the check's snapshot is taken after the lock is granted and sees the winner's commit.
    private const string LockNameSql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

    private const string UpdateSet =
        "type = $3, definition_version = $4, status = $5, wait_reason = $6, wait_detail = $7, current_node = $8, input = $9, " +
        "artifacts = $10, metadata = $11, parent_id = $12, attempt = $13, due_at = $14, error = $15, trace_parent = $16, " +
        "created_at = $17, updated_at = $18, completed_at = $19, archived_at = $20, version = version + 1, " +
        "step_seq = step_seq + $21, event_seq = event_seq + $22, command_seq = command_seq + $23";

    private const string UpdateKeepSql =
        $"WITH u AS (UPDATE workflows SET {UpdateSet} WHERE id = $1 AND version = $2 RETURNING 1) " +
        "SELECT ratchet_workflow_refused($1, $2) WHERE NOT EXISTS (SELECT FROM u)";

    private const string UpdateReleaseSql =
        $"WITH u AS (UPDATE workflows SET {UpdateSet}, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND version = $2 RETURNING 1) " +
        "SELECT ratchet_workflow_refused($1, $2) WHERE NOT EXISTS (SELECT FROM u)";

    private const string ReserveSql =
        "WITH u AS (UPDATE workflows SET step_seq = step_seq + $2, event_seq = event_seq + $3, command_seq = command_seq + $4 " +
        "WHERE id = $1 RETURNING 1) SELECT ratchet_workflow_refused($1, 1) WHERE NOT EXISTS (SELECT FROM u)";

    // Appends take the sequences that the workflow's write (or its reservation) just moved the counters past.
    private const string StepSql =
        $"INSERT INTO steps ({StepColumns}) SELECT $1, w.step_seq - $2, {StepValues} FROM workflows w WHERE w.id = $1";

    private const string EventSql =
        $"INSERT INTO events ({EventColumns}) SELECT $1, w.event_seq - $2, {EventValues} FROM workflows w WHERE w.id = $1";

    private const string CommandSql =
        $"INSERT INTO commands ({CommandColumns}) SELECT $1, w.command_seq - $2, {CommandValues} FROM workflows w WHERE w.id = $1";

    private const string WorkspaceSql =
        $"INSERT INTO workspaces ({WorkspaceColumns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workflow_id) DO UPDATE SET " +
        "path = excluded.path, status = excluded.status, created_at = excluded.created_at, heartbeat_at = excluded.heartbeat_at";

    public const string UpsertValueSql =
        "INSERT INTO kv (namespace, key, value, version, updated_at) VALUES ($1, $2, $3, 1, $4) " +
        "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, version = kv.version + 1, updated_at = excluded.updated_at";

    private const string InsertValueSql =
        "WITH i AS (INSERT INTO kv (namespace, key, value, version, updated_at) VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING RETURNING 1) " +
        "SELECT ratchet_value_refused($1, $2, 0) WHERE NOT EXISTS (SELECT FROM i)";

    private const string ReplaceValueSql =
        "WITH u AS (UPDATE kv SET value = $3, version = version + 1, updated_at = $4 WHERE namespace = $1 AND key = $2 AND version = $5 RETURNING 1) " +
        "SELECT ratchet_value_refused($1, $2, $5) WHERE NOT EXISTS (SELECT FROM u)";

    private const string DeleteValueSql = "DELETE FROM kv WHERE namespace = $1 AND key = $2";

    private const string DeleteValueAtSql =
        "WITH d AS (DELETE FROM kv WHERE namespace = $1 AND key = $2 AND version = $3 RETURNING 1) " +
        "SELECT ratchet_value_refused($1, $2, $3) WHERE NOT EXISTS (SELECT FROM d)";

    // Signals. A send first locks its workflow's row, so that concurrent sends (and a park's check) of one workflow
    // serialise there and each statement after the lock sees the others' committed rows (READ COMMITTED takes a new
    // snapshot per statement).
    private const string LockWorkflowSql =
        "WITH l AS (SELECT 1 FROM workflows WHERE id = $1 FOR NO KEY UPDATE) SELECT ratchet_workflow_refused($1, 1) WHERE NOT EXISTS (SELECT FROM l)";

    private const string SendSignalSql =
        $"INSERT INTO signals ({SignalColumns}) SELECT $1, coalesce((SELECT max(seq) FROM signals WHERE workflow_id = $1), 0) + 1, $2, $3, $4";

    private const string ConsumeSignalSql =
        "WITH d AS (DELETE FROM signals WHERE workflow_id = $1 AND seq = $2 RETURNING 1) " +
        "SELECT ratchet_signal_refused($1, 'consume ' || $2::text) WHERE NOT EXISTS (SELECT FROM d)";

    private const string CheckSignalSql =
        "SELECT ratchet_signal_refused($1, 'pending ' || $2) WHERE EXISTS (SELECT FROM signals WHERE workflow_id = $1 AND name = $2)";

    // The engine's commit of a node: one workflow update plus the step, events and commands of that workflow. As one
    // statement (the appends unnest arrays and number themselves from the counters the update returns) it costs the
    // server one execution instead of one per row, and reads the workflow row once.
    private const string NodeCommitTail =
        " RETURNING step_seq, event_seq, command_seq), " +
        "s AS (INSERT INTO steps (" + StepColumns + ") " +
        "SELECT $1, u.step_seq - $21 + x.i, x.node, x.attempt, x.outcome, x.output, x.error, x.started_at, x.finished_at " +
        "FROM u, unnest($24::text[], $25::int[], $26::text[], $27::text[], $28::text[], $29::bigint[], $30::bigint[]) " +
        "WITH ORDINALITY AS x(node, attempt, outcome, output, error, started_at, finished_at, i)), " +
        "e AS (INSERT INTO events (" + EventColumns + ") " +
        "SELECT $1, u.event_seq - $22 + x.i, x.type, x.node, x.attempt, x.payload, x.at " +
        "FROM u, unnest($31::text[], $32::text[], $33::int[], $34::text[], $35::bigint[]) " +
        "WITH ORDINALITY AS x(type, node, attempt, payload, at, i)), " +
        "c AS (INSERT INTO commands (" + CommandColumns + ") " +
        "SELECT $1, u.command_seq - $23 + x.i, x.node, x.attempt, x.command_line, x.working_directory, x.exit_code, x.duration_us, " +
        "x.stdout_tail, x.stderr_tail, x.started_at " +
        "FROM u, unnest($36::text[], $37::int[], $38::text[], $39::text[], $40::int[], $41::bigint[], $42::text[], $43::text[], $44::bigint[]) " +
        "WITH ORDINALITY AS x(node, attempt, command_line, working_directory, exit_code, duration_us, stdout_tail, stderr_tail, started_at, i)) " +
        "SELECT ratchet_workflow_refused($1, $2) WHERE NOT EXISTS (SELECT FROM u)";

    private const string NodeCommitKeepSql = $"WITH u AS (UPDATE workflows SET {UpdateSet} WHERE id = $1 AND version = $2" + NodeCommitTail;

    private const string NodeCommitReleaseSql =
        $"WITH u AS (UPDATE workflows SET {UpdateSet}, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND version = $2" + NodeCommitTail;

    private readonly List<Func<PostgresException, Exception?>> _refusals = [];

    private PostgresCommit(NpgsqlBatch batch) => Batch = batch;

    public NpgsqlBatch Batch { get; }

    /// <summary>Builds the batch for <paramref name="changes"/> on <paramref name="connection"/>.</summary>
    public static PostgresCommit Build(NpgsqlConnection connection, ChangeSet changes, DateTimeOffset now)
    {
        var commit = new PostgresCommit(connection.CreateBatch());
        if (IsNodeCommit(changes))
        {
            commit.AddNodeCommit(changes);
            return commit;
        }

        foreach (var check in changes.Checks)
        {
            if (check.ExpectedVersion == 0)
            {
                commit.AddNameLock("workflow\u001f" + check.WorkflowId);
            }

            var p = commit.Add(CheckWorkflowSql, WorkflowRefusal(check.WorkflowId, check.ExpectedVersion));
            p.Add(Text(check.WorkflowId));
            p.Add(Bigint(check.ExpectedVersion));
        }

        foreach (var check in changes.ValueChecks)
        {
            if (check.ExpectedVersion == 0)
            {
                commit.AddNameLock(ValueLockName(check.Namespace, check.Key));
            }

            var p = commit.Add(CheckValueSql, ValueRefusal(check.Namespace, check.Key, check.ExpectedVersion));
            p.Add(Text(check.Namespace));
            p.Add(Text(check.Key));
            p.Add(Bigint(check.ExpectedVersion));
        }

        // Per workflow: how many steps, events and commands the change set appends. The first write of the workflow
        // moves its counters past all of them; a workflow that is only appended to gets a reservation statement.
        var appends = CountAppends(changes);
        foreach (var write in changes.Workflows)
        {
            var record = write.Record;
            var counts = appends.Remove(record.Id, out var c) ? c : default;
            if (write.Kind == WorkflowWriteKind.Create)
            {
                var p = commit.Add(WorkflowInsert, ex => ex.SqlState == PostgresErrors.UniqueViolation ? new WorkflowAlreadyExistsException(record.Id) : null);
                AddInsert(p, record, version: 1, counts.Steps, counts.Events, counts.Commands);
            }
            else
            {
                var p = commit.Add(write.Lease == LeaseAction.Release ? UpdateReleaseSql : UpdateKeepSql, WorkflowRefusal(record.Id, record.Version));
                p.Add(Text(record.Id));
                p.Add(Bigint(record.Version));
                AddMutable(p, record);
                p.Add(Bigint(counts.Steps));
                p.Add(Bigint(counts.Events));
                p.Add(Bigint(counts.Commands));
            }
        }

        foreach (var (id, counts) in appends)
        {
            var p = commit.Add(ReserveSql, WorkflowRefusal(id, 1));
            p.Add(Text(id));
            p.Add(Bigint(counts.Steps));
            p.Add(Bigint(counts.Events));
            p.Add(Bigint(counts.Commands));
        }

        commit.AddAppends(changes.Steps, s => s.WorkflowId, StepSql, AddStep);
        commit.AddAppends(changes.Events, e => e.WorkflowId, EventSql, AddEvent);
        commit.AddAppends(changes.Commands, c => c.WorkflowId, CommandSql, AddCommand);

        if (changes.HasSignals)
        {
            commit.AddSignals(changes);
        }

        foreach (var workspace in changes.Workspaces)
        {
            var p = commit.Add(WorkspaceSql, ex => ex.SqlState == PostgresErrors.ForeignKeyViolation ? new WorkflowNotFoundException(workspace.WorkflowId) : null);
            AddWorkspace(p, workspace);
        }

        foreach (var write in changes.KeyValues)
        {
            commit.AddValueWrite(write, now);
        }

        return commit;
    }

    /// <summary>The Ratchet exception a failed statement of this batch stands for; null if it is not a refusal.</summary>
    public Exception? Interpret(PostgresException exception)
    {
        var index = exception.BatchCommand is { } failed ? Batch.BatchCommands.IndexOf(failed) : -1;
        return index >= 0 && index < _refusals.Count ? _refusals[index](exception) : null;
    }

    /// <summary>
    /// Whether a committed change set may have made a workflow claimable now: created or updated due, not terminal,
    /// not archived, and not held by a live lease. Ordinary steps of a leased workflow do not qualify, so a busy worker
    /// sends no notifications.
    /// </summary>
    public static bool MakesWorkDue(ChangeSet changes, DateTimeOffset now)
    {
        foreach (var write in changes.Workflows)
        {
            var r = write.Record;
            if (r.DueAt is not { } due || due > now || r.ArchivedAt is not null || WorkflowLifecycle.IsTerminal(r.Status))
            {
                continue;
            }

            var leased = r.LeaseOwner is not null && r.LeaseExpiresAt > now &&
                (write.Kind == WorkflowWriteKind.Create || write.Lease == LeaseAction.Keep);
            if (!leased)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One workflow's update with appends to that workflow only: the engine's commit of a node.</summary>
    internal static bool IsNodeCommit(ChangeSet changes)
    {
        if (changes.Workflows.Count != 1 || changes.Workflows[0].Kind != WorkflowWriteKind.Update || changes.Checks.Count > 0 ||
            changes.ValueChecks.Count > 0 || changes.KeyValues.Count > 0 || changes.Workspaces.Count > 0 || changes.HasSignals)
        {
            return false;
        }

        var id = changes.Workflows[0].Record.Id;
        return changes.Steps.All(s => s.WorkflowId == id) && changes.Events.All(e => e.WorkflowId == id) &&
            changes.Commands.All(c => c.WorkflowId == id);
    }

    /// <summary>Consumes, then checks, then sends: the contract's order for a change set's signal operations.</summary>
    private void AddSignals(ChangeSet changes)
    {
        foreach (var id in changes.SignalConsumes.Select(c => c.WorkflowId).Concat(changes.SignalChecks.Select(c => c.WorkflowId))
                     .Concat(changes.Signals.Select(g => g.WorkflowId)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            Add(LockWorkflowSql, WorkflowRefusal(id, 1)).Add(Text(id));
        }

        foreach (var consume in changes.SignalConsumes)
        {
            var p = Add(ConsumeSignalSql, ex => ex.SqlState == PostgresErrors.SignalConflict ? SignalConflictException.NotPending(consume.WorkflowId, consume.Sequence) : null);
            p.Add(Text(consume.WorkflowId));
            p.Add(Bigint(consume.Sequence));
        }

        foreach (var check in changes.SignalChecks)
        {
            var p = Add(CheckSignalSql, ex => ex.SqlState == PostgresErrors.SignalConflict ? SignalConflictException.Pending(check.WorkflowId, check.Name) : null);
            p.Add(Text(check.WorkflowId));
            p.Add(Text(check.Name));
        }

        foreach (var signal in changes.Signals)
        {
            var p = Add(SendSignalSql, null);
            p.Add(Text(signal.WorkflowId));
            AddSignal(p, signal);
        }
    }

    private void AddNodeCommit(ChangeSet changes)
    {
        var write = changes.Workflows[0];
        var record = write.Record;
        var p = Add(write.Lease == LeaseAction.Release ? NodeCommitReleaseSql : NodeCommitKeepSql, WorkflowRefusal(record.Id, record.Version));
        p.Add(Text(record.Id));
        p.Add(Bigint(record.Version));
        AddMutable(p, record);
        p.Add(Bigint((long)changes.Steps.Count));
        p.Add(Bigint((long)changes.Events.Count));
        p.Add(Bigint((long)changes.Commands.Count));

        var steps = changes.Steps;
        p.Add(TextArray(steps.Select(s => (string?)s.Node)));
        p.Add(IntegerArray(steps.Select(s => (int?)s.Attempt)));
        p.Add(TextArray(steps.Select(s => (string?)Name(s.Outcome))));
        p.Add(TextArray(steps.Select(s => RatchetJson.ToText(s.Output))));
        p.Add(TextArray(steps.Select(s => RatchetJson.ErrorToText(s.Error))));
        p.Add(BigintArray(steps.Select(s => StoreTime.ToMicroseconds(s.StartedAt))));
        p.Add(BigintArray(steps.Select(s => StoreTime.ToMicroseconds(s.FinishedAt))));

        var events = changes.Events;
        p.Add(TextArray(events.Select(e => (string?)e.Type)));
        p.Add(TextArray(events.Select(e => e.Node)));
        p.Add(IntegerArray(events.Select(e => e.Attempt)));
        p.Add(TextArray(events.Select(e => RatchetJson.ToText(e.Payload))));
        p.Add(BigintArray(events.Select(e => StoreTime.ToMicroseconds(e.At))));

        var commands = changes.Commands;
        p.Add(TextArray(commands.Select(c => (string?)c.Node)));
        p.Add(IntegerArray(commands.Select(c => (int?)c.Attempt)));
        p.Add(TextArray(commands.Select(c => (string?)c.CommandLine)));
        p.Add(TextArray(commands.Select(c => (string?)c.WorkingDirectory)));
        p.Add(IntegerArray(commands.Select(c => c.ExitCode)));
        p.Add(BigintArray(commands.Select(c => c.Duration.Ticks / TimeSpan.TicksPerMicrosecond)));
        p.Add(TextArray(commands.Select(c => (string?)c.StdoutTail)));
        p.Add(TextArray(commands.Select(c => (string?)c.StderrTail)));
        p.Add(BigintArray(commands.Select(c => StoreTime.ToMicroseconds(c.StartedAt))));
    }

    private static Dictionary<string, (long Steps, long Events, long Commands)> CountAppends(ChangeSet changes)
    {
        var counts = new Dictionary<string, (long Steps, long Events, long Commands)>(StringComparer.Ordinal);
        foreach (var step in changes.Steps)
        {
            ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, step.WorkflowId, out _);
            c.Steps++;
        }

        foreach (var auditEvent in changes.Events)
        {
            ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, auditEvent.WorkflowId, out _);
            c.Events++;
        }

        foreach (var command in changes.Commands)
        {
            ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, command.WorkflowId, out _);
            c.Commands++;
        }

        return counts;
    }

    /// <summary>Adds one insert per record; each takes the sequence <c>counter - (appends of its workflow still to come)</c>.</summary>
    private void AddAppends<T>(IReadOnlyList<T> records, Func<T, string> workflowId, string sql, Action<NpgsqlParameterCollection, T> bind)
    {
        if (records.Count == 0)
        {
            return;
        }

        var remaining = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(remaining, workflowId(record), out _);
            count++;
        }

        foreach (var record in records)
        {
            var id = workflowId(record);
            var later = --System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(remaining, id);
            var p = Add(sql, null);
            p.Add(Text(id));
            p.Add(Bigint(later));
            bind(p, record);
        }
    }

    private void AddValueWrite(KeyValueWrite write, DateTimeOffset now)
    {
        var refusal = ValueRefusal(write.Namespace, write.Key, write.ExpectedVersion ?? 0);
        NpgsqlParameterCollection p;
        if (write.Value is { } value)
        {
            p = write.ExpectedVersion switch
            {
                null => Add(UpsertValueSql, null),
                0 => Add(InsertValueSql, refusal),
                _ => Add(ReplaceValueSql, refusal),
            };
            p.Add(Text(write.Namespace));
            p.Add(Text(write.Key));
            p.Add(Text(RatchetJson.ToText(value)));
            p.Add(Time(now));
            if (write.ExpectedVersion is > 0)
            {
                p.Add(Bigint(write.ExpectedVersion.Value));
            }

            return;
        }

        if (write.ExpectedVersion == 0)
        {
            AddNameLock(ValueLockName(write.Namespace, write.Key));
        }

        p = write.ExpectedVersion switch
        {
            null => Add(DeleteValueSql, null),
            0 => Add(CheckValueSql, refusal),
            _ => Add(DeleteValueAtSql, refusal),
        };
        p.Add(Text(write.Namespace));
        p.Add(Text(write.Key));
        if (write.ExpectedVersion is { } expected)
        {
            p.Add(Bigint(expected));
        }
    }

    private static string ValueLockName(string @namespace, string key) => "kv\u001f" + @namespace + "\u001f" + key;

    private void AddNameLock(string name) => Add(LockNameSql, null).Add(Text(name));

    private NpgsqlParameterCollection Add(string sql, Func<PostgresException, Exception?>? refusal)
    {
        var command = Batch.CreateBatchCommand();
        command.CommandText = sql;
        Batch.BatchCommands.Add(command);
        _refusals.Add(refusal ?? (static _ => null));
        return command.Parameters;
    }

    private static Func<PostgresException, Exception?> WorkflowRefusal(string id, long expected) => ex => ex.SqlState switch
    {
        PostgresErrors.WorkflowMissing => new WorkflowNotFoundException(id),
        PostgresErrors.WorkflowConflict => new WorkflowConcurrencyException(id, expected, ParseVersion(ex)),
        _ => null,
    };

    private static Func<PostgresException, Exception?> ValueRefusal(string @namespace, string key, long expected) => ex =>
        ex.SqlState == PostgresErrors.ValueConflict ? new KeyValueConcurrencyException(@namespace, key, expected, ParseVersion(ex)) : null;

    private static long ParseVersion(PostgresException exception) =>
        long.TryParse(exception.Detail, NumberStyles.Integer, CultureInfo.InvariantCulture, out var version) ? version : 0;
}
