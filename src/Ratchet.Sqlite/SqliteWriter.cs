using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Ratchet.Sqlite;

/// <summary>
/// The store's one writer: callers enqueue operations; a single loop takes every operation waiting, applies them all
/// in one <c>BEGIN IMMEDIATE</c> transaction (each, where it could fail half-way, inside its own savepoint, so one
/// caller's conflict never fails another's) and commits once. Each caller's task completes only after that commit —
/// with <c>synchronous=FULL</c>, after the fsync. Under load one fsync serves many callers (group commit). A caller
/// that finds the writer idle and nothing queued commits on its own thread instead, sparing a lone caller two thread
/// hand-overs (W1-seq: about 15% less per step); only one batch runs at a time either way.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    /// <summary>
    /// The longest the writer waits for more callers before committing a smaller batch than the last one. About one
    /// fsync: waiting longer than a commit costs would lose more latency than it saves.
    /// </summary>
    private static readonly long GatherBudgetTicks = Stopwatch.Frequency / 5_000; // 200 µs

    private readonly ConcurrentQueue<WriteOperation> _queue = new();
    private readonly ManualResetEventSlim _pending = new(false, spinCount: 100);
    private readonly SqliteConnection _connection;
    private readonly SqliteWriteSession _session;
    private readonly string _path;
    private readonly int _maxBatchSize;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<WriteOperation> _applied = [];
    private readonly List<WriteOperation> _inlineBatch = new(1);

    /// <summary>Held by whoever runs a batch: the writer thread, or a caller committing inline.</summary>
    private readonly object _executing = new();
    private readonly List<(WriteOperation Operation, Exception Error)> _refused = [];
    private volatile bool _closing;
    private bool _closed;
    private long _transactions;
    private long _operations;

    public SqliteWriter(SqliteConnection connection, TimeProvider clock, string path, int maxBatchSize, ILogger logger)
    {
        _connection = connection;
        _session = new SqliteWriteSession(connection, clock);
        _path = path;
        _maxBatchSize = maxBatchSize;
        _logger = logger;

        // A thread of its own: the writer blocks in SQLite and fsync, and must not wait for, or starve, the pool.
        _thread = new Thread(Run) { IsBackground = true, Name = "Ratchet SQLite writer" };
        _thread.Start();
    }

    /// <summary>Committed write transactions so far.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Operations committed so far, across all transactions.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    public Task<T> EnqueueAsync<T>(Func<SqliteWriteSession, T> apply, CancellationToken cancellationToken, bool mayFailAfterWriting = true)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_closing, typeof(SqliteRatchetStore));
        var operation = new WriteOperation<T>(apply, cancellationToken, mayFailAfterWriting);

        // Nobody else writing and nothing waiting: commit on the caller's thread. A lone caller (one workflow
        // stepping, a CLI command) then pays its fsync and nothing else: no hand-over to the writer thread and back.
        if (_queue.IsEmpty && Monitor.TryEnter(_executing))
        {
            try
            {
                if (_closed)
                {
                    throw new ObjectDisposedException(nameof(SqliteRatchetStore), $"The SQLite store '{_path}' is closed.");
                }

                _inlineBatch.Clear();
                _inlineBatch.Add(operation);
                ExecuteBatch(_inlineBatch);
            }
            finally
            {
                _inlineBatch.Clear();
                Monitor.Exit(_executing);
            }

            if (!_queue.IsEmpty)
            {
                _pending.Set();
            }

            return operation.Task;
        }

        _queue.Enqueue(operation);
        _pending.Set();
        return operation.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _closing = true;
        _pending.Set();
        await _stopped.Task.ConfigureAwait(false);

        // A caller may be committing inline right now: close only once it is done, and refuse any after it.
        lock (_executing)
        {
            _closed = true;
            _session.Dispose();
            _connection.Dispose();
        }

        _pending.Dispose();
    }

    private void Run()
    {
        var batch = new List<WriteOperation>(_maxBatchSize);
        var lastBatchSize = 1;
        try
        {
            while (true)
            {
                _pending.Wait();
                _pending.Reset();
                batch.Clear();
                Drain(batch);

                // Group commit: callers of the last batch are about to send their next writes. Give them a moment,
                // so one fsync serves them all instead of each a fsync of its own.
                if (batch.Count > 0 && batch.Count < lastBatchSize && !_closing)
                {
                    var deadline = Stopwatch.GetTimestamp() + GatherBudgetTicks;
                    var spinner = default(SpinWait);
                    while (batch.Count < lastBatchSize && batch.Count < _maxBatchSize && Stopwatch.GetTimestamp() < deadline)
                    {
                        if (!Drain(batch))
                        {
                            spinner.SpinOnce(sleep1Threshold: -1);
                        }
                    }
                }

                if (batch.Count > 0)
                {
                    lastBatchSize = batch.Count;
                    lock (_executing)
                    {
                        ExecuteBatch(batch);
                    }
                }
                else if (_closing && _queue.IsEmpty)
                {
                    return;
                }

                if (!_queue.IsEmpty || _closing)
                {
                    _pending.Set();
                }
            }
        }
        finally
        {
            // A caller that raced with closing must not wait forever.
            while (_queue.TryDequeue(out var late))
            {
                late.Fail(new ObjectDisposedException(nameof(SqliteRatchetStore), $"The SQLite store '{_path}' was closed before this write ran; nothing was written."));
            }

            _stopped.TrySetResult();
        }
    }

    /// <summary>Moves queued operations into the batch, up to its limit; true if it took any.</summary>
    private bool Drain(List<WriteOperation> batch)
    {
        var took = false;
        while (batch.Count < _maxBatchSize && _queue.TryDequeue(out var operation))
        {
            took = true;
            if (operation.CancellationToken.IsCancellationRequested)
            {
                operation.Cancel();
                continue;
            }

            batch.Add(operation);
        }

        return took;
    }

    private void ExecuteBatch(List<WriteOperation> batch)
    {
        try
        {
            _session.Execute("BEGIN IMMEDIATE;");
            _session.TransactionStarted();
        }
        catch (Exception ex)
        {
            RollbackQuietly();
            FailAll(batch, ex);
            return;
        }

        // A lone operation needs no savepoint: the transaction itself is its unit.
        var single = batch.Count == 1;
        var applied = _applied;
        var refused = _refused;
        applied.Clear();
        refused.Clear();
        for (var i = 0; i < batch.Count; i++)
        {
            var operation = batch[i];

            // An operation that can only be refused before it writes anything needs no savepoint to undo it.
            var isolate = !single && operation.MayFailAfterWriting;
            try
            {
                if (isolate)
                {
                    _session.Execute("SAVEPOINT op;");
                }

                operation.Apply(_session);
                if (isolate)
                {
                    _session.Execute("RELEASE op;");
                }

                _session.OperationSucceeded();
                applied.Add(operation);
            }
            catch (Exception ex) when (IsOperationFailure(ex))
            {
                // Reported only once the batch has committed: a refusal ("already exists") must not reach its caller
                // before the write that caused it is visible.
                refused.Add((operation, SqliteErrors.Translate(ex, _path)));
                _session.OperationFailed();
                try
                {
                    if (single)
                    {
                        _session.Execute("ROLLBACK;");
                    }
                    else if (isolate)
                    {
                        _session.RollbackToSavepoint("op");
                    }
                }
                catch (Exception rollbackFailure)
                {
                    RollbackQuietly();
                    FailAll([.. applied, .. batch.Skip(i + 1)], rollbackFailure);
                    ReportRefusals(refused);
                    return;
                }
            }
            catch (Exception ex)
            {
                // The connection itself is in trouble (I/O, disk full, lost lock): nothing of this batch may commit.
                RollbackQuietly();
                FailAll([.. applied, .. batch.Skip(i)], ex);
                ReportRefusals(refused);
                return;
            }
        }

        if (applied.Count == 0)
        {
            if (!single)
            {
                RollbackQuietly();
            }

            ReportRefusals(refused);
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
            ReportRefusals(refused);
            return;
        }

        ReportRefusals(refused);

        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _operations, applied.Count);
        Log.BatchCommitted(_logger, applied.Count);
        foreach (var operation in applied)
        {
            operation.Complete();
        }
    }

    private static void ReportRefusals(List<(WriteOperation Operation, Exception Error)> refused)
    {
        foreach (var (operation, error) in refused)
        {
            operation.Fail(error);
        }

        refused.Clear();
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
        _session.TransactionFailed();
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
internal abstract class WriteOperation(CancellationToken cancellationToken, bool mayFailAfterWriting)
{
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Whether a refusal can come after the operation wrote something, so it needs a savepoint to undo.</summary>
    public bool MayFailAfterWriting { get; } = mayFailAfterWriting;

    public abstract void Apply(SqliteWriteSession session);

    public abstract void Complete();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

internal sealed class WriteOperation<T>(Func<SqliteWriteSession, T> apply, CancellationToken cancellationToken, bool mayFailAfterWriting)
    : WriteOperation(cancellationToken, mayFailAfterWriting)
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _completion.Task;

    public override void Apply(SqliteWriteSession session) => _result = apply(session);

    public override void Complete() => _completion.TrySetResult(_result!);

    public override void Fail(Exception exception) => _completion.TrySetException(exception);

    public override void Cancel() => _completion.TrySetCanceled(CancellationToken);
}
