using System.Globalization;
using Npgsql;

namespace Ratchet.Postgres;

public sealed partial class PostgresRatchetStore
{
    /// <inheritdoc />
    protected override async Task<WorkflowRecord?> GetWorkflowCoreAsync(string id, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync($"SELECT {WorkflowColumns} FROM workflows WHERE id = $1", ReadWorkflow<PostgresRow>, cancellationToken, Text(id));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsCoreAsync(WorkflowQuery query, WorkflowPosition? after, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        string Next(NpgsqlParameter parameter)
        {
            parameters.Add(parameter);
            return "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        if (!query.IncludeArchived)
        {
            where.Add("archived_at IS NULL");
        }

        if (query.Statuses is { Count: > 0 } statuses)
        {
            where.Add($"status = ANY({Next(TextArray(statuses.Select(Name).ToArray()))})");
        }

        if (query.Types is { Count: > 0 } types)
        {
            where.Add($"type = ANY({Next(TextArray([.. types]))})");
        }

        if (query.ParentId is { } parent)
        {
            where.Add($"parent_id = {Next(Text(parent))}");
        }

        if (query.CreatedFrom is { } createdFrom)
        {
            where.Add($"created_at >= {Next(Time(createdFrom))}");
        }

        if (query.CreatedTo is { } createdTo)
        {
            where.Add($"created_at < {Next(Time(createdTo))}");
        }

        if (query.UpdatedFrom is { } updatedFrom)
        {
            where.Add($"updated_at >= {Next(Time(updatedFrom))}");
        }

        if (query.UpdatedTo is { } updatedTo)
        {
            where.Add($"updated_at < {Next(Time(updatedTo))}");
        }

        var descending = query.Order == ListOrder.NewestFirst;
        if (after is var (afterCreated, afterId))
        {
            var op = descending ? "<" : ">";
            where.Add($"(created_at, id) {op} ({Next(Bigint(afterCreated))}, {Next(Text(afterId))})");
        }

        var direction = descending ? "DESC" : "ASC";
        var sql = $"""
            SELECT {WorkflowColumns} FROM workflows
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY created_at {direction}, id {direction}
            LIMIT {Next(new NpgsqlParameter<int> { TypedValue = query.Limit + 1 })}
            """;
        return ReadListAsync(sql, ReadWorkflow<PostgresRow>, cancellationToken, [.. parameters]);
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsCoreAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken) =>
        ReadListAsync($"""
            SELECT {WorkflowColumns} FROM workflows
            WHERE due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $1 AND status NOT IN {TerminalStatuses}
            ORDER BY due_at, id LIMIT $2
            """, ReadWorkflow<PostgresRow>, cancellationToken, Time(asOf), new NpgsqlParameter<int> { TypedValue = limit });

    /// <inheritdoc />
    protected override Task<IReadOnlyList<StepRecord>> GetStepsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadListAsync($"SELECT {StepColumns} FROM steps WHERE workflow_id = $1 ORDER BY seq", ReadStep<PostgresRow>, cancellationToken, Text(workflowId));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<AuditEvent>> GetEventsCoreAsync(string workflowId, long afterSequence, int limit, CancellationToken cancellationToken) =>
        ReadListAsync($"SELECT {EventColumns} FROM events WHERE workflow_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            ReadEvent<PostgresRow>, cancellationToken, Text(workflowId), Bigint(afterSequence), Bigint((long)limit));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<CommandExecution>> GetCommandsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadListAsync($"SELECT {CommandColumns} FROM commands WHERE workflow_id = $1 ORDER BY seq", ReadCommand<PostgresRow>, cancellationToken, Text(workflowId));

    /// <inheritdoc />
    protected override Task<IReadOnlyList<SignalRecord>> GetPendingSignalsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadListAsync($"SELECT {SignalColumns} FROM signals WHERE workflow_id = $1 ORDER BY seq", ReadSignal<PostgresRow>, cancellationToken, Text(workflowId));

    /// <inheritdoc />
    protected override async Task<WorkspaceRecord?> GetWorkspaceCoreAsync(string workflowId, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE workflow_id = $1", ReadWorkspace<PostgresRow>, cancellationToken, Text(workflowId));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default) =>
        status is { } s
            ? ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE status = $1 ORDER BY workflow_id", ReadWorkspace<PostgresRow>, cancellationToken, Text(Name(s)))
            : ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces ORDER BY workflow_id", ReadWorkspace<PostgresRow>, cancellationToken);

    /// <inheritdoc />
    protected override async Task<KeyValueEntry?> GetValueCoreAsync(string @namespace, string key, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $1 AND key = $2", ReadValue<PostgresRow>, cancellationToken, Text(@namespace), Text(key));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<KeyValueEntry>> ListValuesCoreAsync(string @namespace, CancellationToken cancellationToken)
    {
        // The "C" collation orders by UTF-8 bytes; the contract's order is .NET's ordinal (UTF-16) order, which differs
        // beyond the Basic Multilingual Plane.
        var values = await ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $1", ReadValue<PostgresRow>, cancellationToken, Text(@namespace));
        return values.OrderBy(v => v.Key, StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default)
    {
        var names = await ReadListAsync("SELECT namespace FROM kv UNION SELECT namespace FROM checkpoints", static r => r.GetString(0), cancellationToken);
        return names.Order(StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsCoreAsync(string @namespace, CancellationToken cancellationToken) =>
        ReadListAsync("SELECT namespace, name, created_at, entry_count FROM checkpoints WHERE namespace = $1 ORDER BY created_at, name",
            ReadCheckpointInfo<PostgresRow>, cancellationToken, Text(@namespace));

    /// <inheritdoc />
    protected override async Task<CheckpointRecord?> GetCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var found = await ReadListAsync("SELECT namespace, name, created_at, entries FROM checkpoints WHERE namespace = $1 AND name = $2",
            ReadCheckpoint<PostgresRow>, cancellationToken, Text(@namespace), Text(name));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    /// <remarks>Reads every table in one repeatable-read transaction: a consistent snapshot while writers go on.</remarks>
    public override Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default) =>
        RunAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, token);
            var snapshot = new StoreSnapshot
            {
                Workflows = await AllAsync(connection, $"SELECT {WorkflowColumns} FROM workflows", ReadWorkflow<PostgresRow>, token),
                Steps = await AllAsync(connection, $"SELECT {StepColumns} FROM steps", ReadStep<PostgresRow>, token),
                Events = await AllAsync(connection, $"SELECT {EventColumns} FROM events", ReadEvent<PostgresRow>, token),
                Commands = await AllAsync(connection, $"SELECT {CommandColumns} FROM commands", ReadCommand<PostgresRow>, token),
                Workspaces = await AllAsync(connection, $"SELECT {WorkspaceColumns} FROM workspaces", ReadWorkspace<PostgresRow>, token),
                Signals = await AllAsync(connection, $"SELECT {SignalColumns} FROM signals", ReadSignal<PostgresRow>, token),
                Values = await AllAsync(connection, $"SELECT {ValueColumns} FROM kv", ReadValue<PostgresRow>, token),
                Checkpoints = await AllAsync(connection, "SELECT namespace, name, created_at, entries FROM checkpoints", ReadCheckpoint<PostgresRow>, token),
            };
            await transaction.CommitAsync(token);
            return snapshot.Canonicalize();
        }, cancellationToken);

    private Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, Func<PostgresRow, T> map, CancellationToken cancellationToken, params NpgsqlParameter[] parameters) =>
        RunAsync<IReadOnlyList<T>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddRange(parameters);
            return await ReadAllAsync(command, map, token);
        }, cancellationToken);

    private static async Task<List<T>> AllAsync<T>(NpgsqlConnection connection, string sql, Func<PostgresRow, T> map, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await ReadAllAsync(command, map, cancellationToken);
    }
}
