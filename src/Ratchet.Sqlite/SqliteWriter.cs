using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Ratchet.Sqlite;

/// <summary>
/// The store's one writer: callers enqueue operations; a single loop takes every operation waiting, applies them all
/// in one <c>BEGIN IMMEDIATE</c> transaction (each inside its own savepoint, so one caller's conflict never fails
/// another's) and commits once. Each caller's task completes only after that commit — with <c>synchronous=FULL</c>,
/// after the fsync. Under load one fsync serves many callers (group commit).
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly SqliteConnection _connection;
    private readonly SqliteWriteSession _session;
    private readonly string _path;
    private readonly int _maxBatchSize;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly List<WriteOperation> _applied = [];
    private long _transactions;
    private long _operations;

    /// <summary>Committed write transactions so far.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Operations committed so far, across all transactions.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    public SqliteWriter(SqliteConnection connection, TimeProvider clock, string path, int maxBatchSize, ILogger logger)
    {
        _connection = connection;
        _session = new SqliteWriteSession(connection, clock);
        _path = path;
        _maxBatchSize = maxBatchSize;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public Task<T> EnqueueAsync<T>(Func<SqliteWriteSession, T> apply, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var operation = new WriteOperation<T>(apply, cancellationToken);
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteRatchetStore), $"The SQLite store '{_path}' is closed.");
        }

        return operation.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _session.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteOperation>(_maxBatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatchSize && reader.TryRead(out var operation))
            {
                if (operation.CancellationToken.IsCancellationRequested)
                {
                    operation.Cancel();
                    continue;
                }

                batch.Add(operation);
            }

            if (batch.Count > 0)
            {
                ExecuteBatch(batch);
            }
        }
    }

    private void ExecuteBatch(List<WriteOperation> batch)
    {
        try
        {
            _session.Execute("BEGIN IMMEDIATE;");
        }
        catch (Exception ex)
        {
            FailAll(batch, ex);
            return;
        }

        // A lone operation needs no savepoint: the transaction itself is its unit.
        var single = batch.Count == 1;
        var applied = _applied;
        applied.Clear();
        for (var i = 0; i < batch.Count; i++)
        {
            var operation = batch[i];
            try
            {
                if (!single)
                {
                    _session.Execute("SAVEPOINT op;");
                }

                operation.Apply(_session);
                if (!single)
                {
                    _session.Execute("RELEASE op;");
                }

                applied.Add(operation);
            }
            catch (Exception ex) when (IsOperationFailure(ex))
            {
                operation.Fail(SqliteErrors.Translate(ex, _path));
                try
                {
                    _session.Execute(single ? "ROLLBACK;" : "ROLLBACK TO op; RELEASE op;");
                }
                catch (Exception rollbackFailure)
                {
                    RollbackQuietly();
                    FailAll([.. applied, .. batch.Skip(i + 1)], rollbackFailure);
                    return;
                }
            }
            catch (Exception ex)
            {
                // The connection itself is in trouble (I/O, disk full, lost lock): nothing of this batch may commit.
                RollbackQuietly();
                FailAll([.. applied, .. batch.Skip(i)], ex);
                return;
            }
        }

        if (applied.Count == 0)
        {
            if (!single)
            {
                RollbackQuietly();
            }

            return;
        }

        try
        {
            _session.Execute("COMMIT;");
        }
        catch (Exception ex)
        {
            RollbackQuietly();
            FailAll(applied, ex);
            return;
        }

        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _operations, applied.Count);
        Log.BatchCommitted(_logger, applied.Count);
        foreach (var operation in applied)
        {
            operation.Complete();
        }
    }

    /// <summary>Failures that concern one operation only: refusals, bad arguments, constraint violations.</summary>
    private static bool IsOperationFailure(Exception exception) =>
        exception is RatchetException or ArgumentException or System.Text.Json.JsonException ||
        (exception is SqliteException sqlite && SqliteErrors.IsConstraint(sqlite));

    private void FailAll(IReadOnlyList<WriteOperation> operations, Exception exception)
    {
        var translated = SqliteErrors.Translate(exception, _path);
        Log.BatchFailed(_logger, operations.Count, _path, exception);
        foreach (var operation in operations)
        {
            operation.Fail(translated);
        }
    }

    private void RollbackQuietly()
    {
        try
        {
            if (!_connection.State.Equals(System.Data.ConnectionState.Closed))
            {
                _session.Execute("ROLLBACK;");
            }
        }
        catch (SqliteException)
        {
            // SQLite may already have rolled back on its own (it does after some I/O errors); the caller's error stands.
        }
    }

}

/// <summary>One queued write: applied by the writer's loop, completed after its batch commits.</summary>
internal abstract class WriteOperation(CancellationToken cancellationToken)
{
    public CancellationToken CancellationToken { get; } = cancellationToken;

    public abstract void Apply(SqliteWriteSession session);

    public abstract void Complete();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

internal sealed class WriteOperation<T>(Func<SqliteWriteSession, T> apply, CancellationToken cancellationToken)
    : WriteOperation(cancellationToken)
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _completion.Task;

    public override void Apply(SqliteWriteSession session) => _result = apply(session);

    public override void Complete() => _completion.TrySetResult(_result!);

    public override void Fail(Exception exception) => _completion.TrySetException(exception);

    public override void Cancel() => _completion.TrySetCanceled(CancellationToken);
}
