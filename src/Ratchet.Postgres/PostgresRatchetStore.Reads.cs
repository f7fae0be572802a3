using System.Data.Common;
using System.Globalization;
using System.Text;
using Npgsql;
using Ratchet.Serialization;
using Ratchet.Storage;
using static Ratchet.Postgres.PostgresRows;

namespace Ratchet.Postgres;

public sealed partial class PostgresRatchetStore
{
    /// <inheritdoc />
    public async Task<WorkflowRecord?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var found = await ReadListAsync($"SELECT {WorkflowColumns} FROM workflows WHERE id = $1", ReadWorkflow, cancellationToken, Text(id));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<WorkflowPage> ListWorkflowsAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > WorkflowQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A page holds 1 to {WorkflowQuery.MaxLimit} workflows.");
        }

        var after = query.PageToken is null ? default((long, string)?) : ParsePageToken(query.PageToken);
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
        return RunAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddRange(parameters.ToArray());
            var items = await ReadAllAsync(command, ReadWorkflow, token);
            string? next = null;
            if (items.Count > query.Limit)
            {
                items.RemoveAt(items.Count - 1);
                var last = items[^1];
                next = FormatPageToken(StoreTime.ToMicroseconds(last.CreatedAt), last.Id);
            }

            return new WorkflowPage(items, next);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadListAsync($"""
            SELECT {WorkflowColumns} FROM workflows
            WHERE due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $1 AND status NOT IN {TerminalStatuses}
            ORDER BY due_at, id LIMIT $2
            """, ReadWorkflow, cancellationToken, Time(asOf), new NpgsqlParameter<int> { TypedValue = limit });
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StepRecord>> GetStepsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return ReadListAsync($"SELECT {StepColumns} FROM steps WHERE workflow_id = $1 ORDER BY seq", ReadStep, cancellationToken, Text(workflowId));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> GetEventsAsync(string workflowId, long afterSequence = 0, int limit = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadListAsync($"SELECT {EventColumns} FROM events WHERE workflow_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            ReadEvent, cancellationToken, Text(workflowId), Bigint(afterSequence), Bigint((long)limit));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CommandExecution>> GetCommandsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return ReadListAsync($"SELECT {CommandColumns} FROM commands WHERE workflow_id = $1 ORDER BY seq", ReadCommand, cancellationToken, Text(workflowId));
    }

    /// <inheritdoc />
    public async Task<WorkspaceRecord?> GetWorkspaceAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        var found = await ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE workflow_id = $1", ReadWorkspace, cancellationToken, Text(workflowId));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default) =>
        status is { } s
            ? ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE status = $1 ORDER BY workflow_id", ReadWorkspace, cancellationToken, Text(Name(s)))
            : ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces ORDER BY workflow_id", ReadWorkspace, cancellationToken);

    /// <inheritdoc />
    public async Task<KeyValueEntry?> GetValueAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        KeyValueNames.Validate(@namespace, key);
        var found = await ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $1 AND key = $2", ReadValue, cancellationToken, Text(@namespace), Text(key));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<KeyValueEntry>> ListValuesAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));

        // The "C" collation orders by UTF-8 bytes; the contract's order is .NET's ordinal (UTF-16) order, which differs
        // beyond the Basic Multilingual Plane.
        var values = await ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $1", ReadValue, cancellationToken, Text(@namespace));
        return values.OrderBy(v => v.Key, StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default)
    {
        var names = await ReadListAsync("SELECT namespace FROM kv UNION SELECT namespace FROM checkpoints", static r => r.GetString(0), cancellationToken);
        return names.Order(StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        return ReadListAsync("SELECT namespace, name, created_at, entry_count FROM checkpoints WHERE namespace = $1 ORDER BY created_at, name",
            static r => new CheckpointInfo
            {
                Namespace = r.GetString(0),
                Name = r.GetString(1),
                CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(2)),
                EntryCount = r.GetInt32(3),
            },
            cancellationToken, Text(@namespace));
    }

    /// <inheritdoc />
    public async Task<CheckpointRecord?> GetCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
        var found = await ReadListAsync("SELECT namespace, name, created_at, entries FROM checkpoints WHERE namespace = $1 AND name = $2",
            ReadCheckpoint, cancellationToken, Text(@namespace), Text(name));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    /// <remarks>Reads every table in one repeatable-read transaction: a consistent snapshot while writers go on.</remarks>
    public Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default) =>
        RunAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, token);
            var snapshot = new StoreSnapshot
            {
                Workflows = await AllAsync(connection, $"SELECT {WorkflowColumns} FROM workflows", ReadWorkflow, token),
                Steps = await AllAsync(connection, $"SELECT {StepColumns} FROM steps", ReadStep, token),
                Events = await AllAsync(connection, $"SELECT {EventColumns} FROM events", ReadEvent, token),
                Commands = await AllAsync(connection, $"SELECT {CommandColumns} FROM commands", ReadCommand, token),
                Workspaces = await AllAsync(connection, $"SELECT {WorkspaceColumns} FROM workspaces", ReadWorkspace, token),
                Values = await AllAsync(connection, $"SELECT {ValueColumns} FROM kv", ReadValue, token),
                Checkpoints = await AllAsync(connection, "SELECT namespace, name, created_at, entries FROM checkpoints", ReadCheckpoint, token),
            };
            await transaction.CommitAsync(token);
            return snapshot.Canonicalize();
        }, cancellationToken);

    private Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params NpgsqlParameter[] parameters) =>
        RunAsync<IReadOnlyList<T>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddRange(parameters);
            return await ReadAllAsync(command, map, token);
        }, cancellationToken);

    private static async Task<List<T>> AllAsync<T>(NpgsqlConnection connection, string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await ReadAllAsync(command, map, cancellationToken);
    }

    private static string FormatPageToken(long createdMicros, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{createdMicros}:{id}")));

    private static (long, string) ParsePageToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var created))
            {
                return (created, text[(colon + 1)..]);
            }
        }
        catch (FormatException)
        {
            // Falls through to the refusal below.
        }

        throw new ArgumentException($"The page token '{token}' was not issued by this store; pass the NextPageToken of a previous page, or none.", nameof(token));
    }
}
