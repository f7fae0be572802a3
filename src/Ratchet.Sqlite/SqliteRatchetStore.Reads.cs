using Microsoft.Data.Sqlite;

namespace Ratchet.Sqlite;

public sealed partial class SqliteRatchetStore
{
    /// <inheritdoc />
    protected override Task<WorkflowRecord?> GetWorkflowCoreAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = Command(connection, $"SELECT {WorkflowColumns} FROM workflows WHERE id = $id;", ("$id", id));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadWorkflow(new ReaderRow(reader)) : null;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsCoreAsync(WorkflowQuery query, WorkflowPosition? after, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<WorkflowRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            var where = new List<string>();
            if (!query.IncludeArchived)
            {
                where.Add("archived_at IS NULL");
            }

            AddIn(command, where, "status", query.Statuses?.Select(Name).ToArray());
            AddIn(command, where, "type", query.Types?.ToArray());
            AddCondition(command, where, "parent_id = $parent", "$parent", query.ParentId);
            AddCondition(command, where, "created_at >= $created_from", "$created_from", Micros(query.CreatedFrom));
            AddCondition(command, where, "created_at < $created_to", "$created_to", Micros(query.CreatedTo));
            AddCondition(command, where, "updated_at >= $updated_from", "$updated_from", Micros(query.UpdatedFrom));
            AddCondition(command, where, "updated_at < $updated_to", "$updated_to", Micros(query.UpdatedTo));
            var descending = query.Order == ListOrder.NewestFirst;
            if (after is var (afterCreated, afterId))
            {
                var op = descending ? "<" : ">";
                where.Add($"(created_at {op} $after_created OR (created_at = $after_created AND id {op} $after_id))");
                command.Parameters.AddWithValue("$after_created", afterCreated);
                command.Parameters.AddWithValue("$after_id", afterId);
            }

            var direction = descending ? "DESC" : "ASC";
            command.CommandText = $"""
                SELECT {WorkflowColumns} FROM workflows
                {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
                ORDER BY created_at {direction}, id {direction}
                LIMIT $limit;
                """;
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            var items = new List<WorkflowRecord>(Math.Min(query.Limit + 1, 1024));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                items.Add(ReadWorkflow(new ReaderRow(reader)));
            }

            return items;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsCoreAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken) =>
        ReadListAsync($"""
            SELECT {WorkflowColumns} FROM workflows INDEXED BY ix_workflows_due
            WHERE due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $as_of AND status NOT IN {TerminalStatuses}
            ORDER BY due_at, id LIMIT $limit;
            """, ReadWorkflow<ReaderRow>, cancellationToken, ("$as_of", StoreTime.ToMicroseconds(asOf)), ("$limit", limit));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<StepRecord>> GetStepsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadListAsync($"{StepSelect} WHERE w.id = $id ORDER BY s.seq;", ReadStep<ReaderRow>, cancellationToken, ("$id", workflowId));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<AuditEvent>> GetEventsCoreAsync(string workflowId, long afterSequence, int limit, CancellationToken cancellationToken) =>
        ReadListAsync($"{EventSelect} WHERE w.id = $id AND e.seq > $after ORDER BY e.seq LIMIT $limit;",
            ReadEvent<ReaderRow>, cancellationToken, ("$id", workflowId), ("$after", afterSequence), ("$limit", limit));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<SignalRecord>> GetPendingSignalsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadListAsync($"{SignalSelect} WHERE w.id = $id ORDER BY g.seq;", ReadSignal<ReaderRow>, cancellationToken, ("$id", workflowId));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<CommandExecution>> GetCommandsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadListAsync($"{CommandSelect} WHERE w.id = $id ORDER BY c.seq;", ReadCommand<ReaderRow>, cancellationToken, ("$id", workflowId));

    /// <inheritdoc />
    protected override async Task<WorkspaceRecord?> GetWorkspaceCoreAsync(string workflowId, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE workflow_id = $id;", ReadWorkspace<ReaderRow>, cancellationToken, ("$id", workflowId));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default) =>
        status is { } s
            ? ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE status = $status ORDER BY workflow_id;", ReadWorkspace<ReaderRow>, cancellationToken, ("$status", Name(s)))
            : ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces ORDER BY workflow_id;", ReadWorkspace<ReaderRow>, cancellationToken);

    /// <inheritdoc />
    protected override async Task<KeyValueEntry?> GetValueCoreAsync(string @namespace, string key, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $ns AND key = $key;", ReadValue<ReaderRow>, cancellationToken, ("$ns", @namespace), ("$key", key));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<KeyValueEntry>> ListValuesCoreAsync(string @namespace, CancellationToken cancellationToken)
    {
        // SQLite orders text by UTF-8 bytes; the contract's order is .NET's ordinal (UTF-16) order, which differs
        // beyond the Basic Multilingual Plane.
        return Ordered(ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $ns;", ReadValue<ReaderRow>, cancellationToken, ("$ns", @namespace)), v => v.Key);
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default) =>
        Ordered(ReadListAsync("SELECT namespace FROM kv UNION SELECT namespace FROM checkpoints;", static r => r.GetString(0), cancellationToken), n => n);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsCoreAsync(string @namespace, CancellationToken cancellationToken) =>
        ReadListAsync("SELECT namespace, name, created_at, entry_count FROM checkpoints WHERE namespace = $ns ORDER BY created_at, name;",
            ReadCheckpointInfo<ReaderRow>, cancellationToken, ("$ns", @namespace));

    /// <inheritdoc />
    protected override async Task<CheckpointRecord?> GetCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync("SELECT namespace, name, created_at, entries FROM checkpoints WHERE namespace = $ns AND name = $name;",
            ReadCheckpoint<ReaderRow>, cancellationToken, ("$ns", @namespace), ("$name", name));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public override Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(connection =>
        {
            // One read transaction: every table is read at the same moment, while writers go on.
            using var transaction = connection.BeginTransaction(deferred: true);
            var snapshot = new StoreSnapshot
            {
                Workflows = All(connection, $"SELECT {WorkflowColumns} FROM workflows;", ReadWorkflow<ReaderRow>),
                Steps = All(connection, StepSelect + ";", ReadStep<ReaderRow>),
                Events = All(connection, EventSelect + ";", ReadEvent<ReaderRow>),
                Commands = All(connection, CommandSelect + ";", ReadCommand<ReaderRow>),
                Signals = All(connection, SignalSelect + ";", ReadSignal<ReaderRow>),
                Workspaces = All(connection, $"SELECT {WorkspaceColumns} FROM workspaces;", ReadWorkspace<ReaderRow>),
                Values = All(connection, $"SELECT {ValueColumns} FROM kv;", ReadValue<ReaderRow>),
                Checkpoints = All(connection, "SELECT namespace, name, created_at, entries FROM checkpoints;", ReadCheckpoint<ReaderRow>),
            };
            transaction.Commit();
            return snapshot.Canonicalize();
        }, cancellationToken);

    /// <summary>
    /// Runs a read on a pooled connection. SQLite reads are synchronous and short, so they run on the caller's thread
    /// rather than paying for a thread hop.
    /// </summary>
    private Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        try
        {
            using var connection = new SqliteConnection(_readConnectionString);
            connection.Open();
            return Task.FromResult(read(connection));
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(SqliteErrors.Translate(ex, _options.Path));
        }
    }

    private Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, Func<ReaderRow, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        ReadAsync<IReadOnlyList<T>>(connection =>
        {
            using var command = Command(connection, sql, parameters);
            using var reader = command.ExecuteReader();
            var list = new List<T>();
            while (reader.Read())
            {
                list.Add(map(new ReaderRow(reader)));
            }

            return list;
        }, cancellationToken);

    private static async Task<IReadOnlyList<T>> Ordered<T>(Task<IReadOnlyList<T>> read, Func<T, string> key) =>
        (await read).OrderBy(key, StringComparer.Ordinal).ToArray();

    private static List<T> All<T>(SqliteConnection connection, string sql, Func<ReaderRow, T> map)
    {
        using var command = Command(connection, sql);
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
        {
            list.Add(map(new ReaderRow(reader)));
        }

        return list;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static void AddIn(SqliteCommand command, List<string> where, string column, string[]? values)
    {
        if (values is not { Length: > 0 })
        {
            return;
        }

        var names = new string[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            names[i] = $"${column}_{i}";
            command.Parameters.AddWithValue(names[i], values[i]);
        }

        where.Add($"{column} IN ({string.Join(", ", names)})");
    }

    private static void AddCondition(SqliteCommand command, List<string> where, string condition, string parameter, object? value)
    {
        if (value is null)
        {
            return;
        }

        where.Add(condition);
        command.Parameters.AddWithValue(parameter, value);
    }
}
