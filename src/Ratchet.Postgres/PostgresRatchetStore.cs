using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ratchet.Postgres;

/// <summary>
/// The shared store on PostgreSQL: many worker processes on one database. Each commit is one round trip (a batch
/// that PostgreSQL runs as one implicit transaction) on its own pooled connection, so that concurrent commits share
/// WAL flushes through the server's group commit; commits are as durable as the server's <c>synchronous_commit</c>
/// (by default: flushed). Claims use <c>FOR UPDATE SKIP LOCKED</c>; idle workers are woken by LISTEN/NOTIFY.
/// </summary>
public sealed partial class PostgresRatchetStore : RatchetStoreBase, IWorkNotifier
{
    private const int MaxAttempts = 3;

    private readonly PostgresStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresWorkSignal _signal;
    private readonly PostgresCommitBatcher? _batcher;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private int _disposed;

    private PostgresRatchetStore(PostgresStoreOptions options, NpgsqlDataSource dataSource, string description, ILogger logger)
    {
        _options = options;
        _dataSource = dataSource;
        _logger = logger;
        _clock = options.TimeProvider;
        Description = description;
        _signal = new PostgresWorkSignal(options, dataSource, description, logger);
        if (options.MaxCommitBatch > 1)
        {
            _batcher = new PostgresCommitBatcher(
                changes => CommitAloneAsync(changes, Now, CancellationToken.None),
                operation => RunAsync(operation, CancellationToken.None),
                options.MaxCommitBatch);
        }
    }

    /// <inheritdoc />
    /// <remarks>Such as <c>postgres://ratchet@127.0.0.1:5432/ratchet</c>, with <c>?schema=</c> when not the default; never the password.</remarks>
    public override string Description { get; }

    /// <summary>The schema holding the store's tables.</summary>
    public string Schema => _options.Schema;

    private DateTimeOffset Now => _clock.GetStoreNow();

    /// <summary>
    /// Connects to the server, creates the schema if needed and migrates it up (under an advisory lock, so processes
    /// opening at once are safe).
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    /// <exception cref="StoreSchemaException">The schema is newer than this binary, differs from it, or is not a Ratchet store. Nothing was written.</exception>
    /// <exception cref="StoreUnavailableException">The server cannot be reached.</exception>
    public static async Task<PostgresRatchetStore> OpenAsync(PostgresStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid PostgreSQL store options: " + string.Join(" ", problems), nameof(options));
        }

        var description = options.Describe();
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PostgresRatchetStore>();
        var dataSource = PostgresConnections.CreateDataSource(options, pooling: true);
        try
        {
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                foreach (var version in await PostgresMigrations.MigrateAsync(connection, options, PostgresMigrations.LatestVersion, allowDown: false, cancellationToken))
                {
                    Log.MigrationApplied(logger, version, description);
                }
            }

            Log.Opened(logger, description, PostgresMigrations.LatestVersion);
            return new PostgresRatchetStore(options, dataSource, description, logger);
        }
        catch (Exception ex)
        {
            await dataSource.DisposeAsync();
            throw PostgresErrors.Translate(ex, description);
        }
    }

    /// <summary>Stops listening and closes every pooled connection.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_batcher is not null)
        {
            await _batcher.DisposeAsync();
        }

        await _signal.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    /// <inheritdoc />
    /// <remarks>
    /// Opens the store's LISTEN connection on the first subscription. Commits that create a runnable workflow or make
    /// one due now without a live lease (and lease releases of due workflows) notify every process's subscribers.
    /// </remarks>
    public IDisposable SubscribeToWork(Action onWorkDue)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        return _signal.Subscribe(onWorkDue);
    }

    /// <inheritdoc />
    protected override async Task CommitCoreAsync(ChangeSet changes, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        var now = Now;
        if (_batcher is not null && PostgresCommitBatcher.CanMerge(changes))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _batcher.CommitAsync(changes);
        }
        else
        {
            await CommitAloneAsync(changes, now, cancellationToken);
        }

        if (PostgresCommit.MakesWorkDue(changes, now))
        {
            _signal.RequestNotify();
        }
    }

    /// <summary>Writes one change set as one batch: one round trip, one transaction; refusals translated.</summary>
    private Task CommitAloneAsync(ChangeSet changes, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(async (connection, token) =>
        {
            var commit = PostgresCommit.Build(connection, changes, now);
            await using var batch = commit.Batch;
            try
            {
                await batch.ExecuteNonQueryAsync(token);
            }
            catch (PostgresException ex) when (commit.Interpret(ex) is { } refusal)
            {
                throw refusal;
            }

            return true;
        }, cancellationToken);

    // ---- leases ------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsCoreAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var now = Now;
        var typed = request.Types is { Count: > 0 };
        var sql = $"""
            WITH c AS (
                SELECT id FROM workflows
                WHERE due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $1
                  AND status NOT IN {TerminalStatuses}
                  AND (lease_owner IS NULL OR lease_expires_at <= $1) AND queue IS NULL
                  {(typed ? "AND type = ANY($5)" : "")}
                ORDER BY due_at, id
                LIMIT $4
                FOR UPDATE SKIP LOCKED)
            UPDATE workflows w SET lease_owner = $2, lease_expires_at = $3, version = w.version + 1
            FROM c WHERE w.id = c.id
            RETURNING {Qualified("w")}
            """;
        return RunAsync<IReadOnlyList<WorkflowRecord>>(async (connection, token) =>
        {
            // One round trip: the claim of workflows in no queue, and whether any queue has due work (a look at an
            // index of queued workflows only, empty in a store that uses no queues).
            await using var batch = new NpgsqlBatch(connection);
            var claim = new NpgsqlBatchCommand(sql);
            claim.Parameters.Add(Time(now));
            claim.Parameters.Add(Text(request.Owner));
            claim.Parameters.Add(Time(now + request.Duration));
            claim.Parameters.Add(new NpgsqlParameter<int> { TypedValue = request.MaxCount });
            if (typed)
            {
                claim.Parameters.Add(TextArray([.. request.Types!]));
            }

            batch.BatchCommands.Add(claim);
            var look = new NpgsqlBatchCommand(QueuesDueSql);
            look.Parameters.Add(Time(now));
            batch.BatchCommands.Add(look);
            var claimed = new List<WorkflowRecord>();
            bool queued;
            await using (var reader = await batch.ExecuteReaderAsync(token))
            {
                while (await reader.ReadAsync(token))
                {
                    claimed.Add(ReadWorkflow(new PostgresRow(reader)));
                }

                await reader.NextResultAsync(token);
                queued = await reader.ReadAsync(token) && reader.GetBoolean(0);
            }

            if (queued && claimed.Count < request.MaxCount)
            {
                claimed.AddRange(await ClaimQueuedAsync(connection, request, now, request.MaxCount - claimed.Count, token));
            }

            claimed.Sort(static (a, b) =>
            {
                var byDue = Nullable.Compare(a.DueAt, b.DueAt);
                return byDue != 0 ? byDue : string.CompareOrdinal(a.Id, b.Id);
            });
            return claimed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    protected override Task<WorkflowRecord?> ClaimWorkflowCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken)
    {
        var now = Now;
        return RunAsync<WorkflowRecord?>(async (connection, token) =>
        {
            // A workflow of a queue is taken here only by its holder (a renewal); anyone else goes through the queue.
            await using var command = new NpgsqlCommand($"""
                UPDATE workflows SET lease_owner = $2, lease_expires_at = $3, version = version + 1
                WHERE id = $1 AND (lease_owner = $2 OR queue IS NULL AND (lease_owner IS NULL OR lease_expires_at <= $4))
                RETURNING {WorkflowColumns}
                """, connection);
            command.Parameters.Add(Text(workflowId));
            command.Parameters.Add(Text(owner));
            command.Parameters.Add(Time(now + duration));
            command.Parameters.Add(Time(now));
            var claimed = await ReadAllAsync(command, ReadWorkflow<PostgresRow>, token);
            if (claimed.Count == 1)
            {
                return claimed[0];
            }

            await using var exists = new NpgsqlCommand("SELECT queue, queue_partition FROM workflows WHERE id = $1", connection);
            exists.Parameters.Add(Text(workflowId));
            string? queue;
            string? partition;
            await using (var reader = await exists.ExecuteReaderAsync(token))
            {
                if (!await reader.ReadAsync(token))
                {
                    throw new WorkflowNotFoundException(workflowId);
                }

                queue = reader.IsDBNull(0) ? null : reader.GetString(0);
                partition = reader.IsDBNull(1) ? null : reader.GetString(1);
            }

            return queue is null ? null : await ClaimQueuedOneAsync(connection, workflowId, queue, partition, owner, now, now + duration, token);
        }, cancellationToken);
    }

    /// <inheritdoc />
    protected override Task<bool> RenewLeaseCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken)
    {
        var expires = Now + duration;
        return RunAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("UPDATE workflows SET lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2", connection);
            command.Parameters.Add(Text(workflowId));
            command.Parameters.Add(Text(owner));
            command.Parameters.Add(Time(expires));
            return await command.ExecuteNonQueryAsync(token) == 1;
        }, cancellationToken);
    }

    /// <inheritdoc />
    protected override Task<int> RenewLeasesCoreAsync(string owner, TimeSpan duration, CancellationToken cancellationToken)
    {
        var expires = Now + duration;
        return RunAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("UPDATE workflows SET lease_expires_at = $2 WHERE lease_owner = $1", connection);
            command.Parameters.Add(Text(owner));
            command.Parameters.Add(Time(expires));
            return await command.ExecuteNonQueryAsync(token);
        }, cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task<bool> ReleaseLeaseCoreAsync(string workflowId, string owner, CancellationToken cancellationToken)
    {
        var now = Now;
        var (released, due) = await RunAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"""
                UPDATE workflows SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2
                RETURNING due_at IS NOT NULL AND due_at <= $3 AND archived_at IS NULL AND status NOT IN {TerminalStatuses}
                """, connection);
            command.Parameters.Add(Text(workflowId));
            command.Parameters.Add(Text(owner));
            command.Parameters.Add(Time(now));
            var rows = await ReadAllAsync(command, static r => r.GetBoolean(0), token);
            return (rows.Count == 1, rows.Count == 1 && rows[0]);
        }, cancellationToken);

        if (due)
        {
            // A released workflow that is due can be taken by any worker now.
            _signal.RequestNotify();
        }

        return released;
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Runs an operation on a pooled connection, translating errors. An operation PostgreSQL aborted as a deadlock or
    /// serialization victim was rolled back whole, so it is run again (a few times) before the caller hears of it.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                return await operation(connection, cancellationToken);
            }
            catch (PostgresException ex) when (PostgresErrors.IsRetryable(ex) && attempt < MaxAttempts)
            {
                Log.Retrying(_logger, Description, ex.SqlState, attempt);
            }
            catch (Exception ex)
            {
                throw PostgresErrors.Translate(ex, Description);
            }
        }
    }

    private static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<PostgresRow, T> map, CancellationToken cancellationToken)
    {
        var list = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(map(new PostgresRow(reader)));
        }

        return list;
    }
}
