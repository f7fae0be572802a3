using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ratchet.Storage;

namespace Ratchet.Sqlite;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode, <c>synchronous=FULL</c> by default, safe for several
/// processes at once. Writes go through one writer that commits the change sets of many concurrent callers in one
/// transaction (group commit); reads use pooled connections and never wait for writes.
/// </summary>
public sealed partial class SqliteRatchetStore : IRatchetStore
{
    private readonly SqliteStoreOptions _options;
    private readonly string _path;
    private readonly string _readConnectionString;
    private readonly SqliteWriter _writer;
    private int _disposed;

    private SqliteRatchetStore(SqliteStoreOptions options, string path, string readConnectionString, SqliteWriter writer)
    {
        _options = options;
        _path = path;
        _readConnectionString = readConnectionString;
        _writer = writer;
    }

    /// <inheritdoc />
    public string Description => $"sqlite:{_options.Path}";

    /// <summary>
    /// How the writer has grouped work so far: committed transactions (each one fsync with <c>synchronous=FULL</c>) and
    /// the operations they carried. Operations per transaction is the group-commit factor.
    /// </summary>
    public SqliteWriteStatistics WriteStatistics => new(_writer.Transactions, _writer.Operations);

    /// <summary>
    /// Opens (creating if needed) the store at <see cref="SqliteStoreOptions.Path"/> and migrates its schema up.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    /// <exception cref="StoreSchemaException">The file's schema is newer than this binary, or differs from it. Nothing was written.</exception>
    /// <exception cref="StoreCorruptException">The file is not a SQLite database. Nothing was written.</exception>
    /// <exception cref="StoreUnavailableException">The file cannot be opened or stays locked.</exception>
    public static Task<SqliteRatchetStore> OpenAsync(SqliteStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid SQLite store options: " + string.Join(" ", problems), nameof(options));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.Run(() => Open(options), cancellationToken);
    }

    private static SqliteRatchetStore Open(SqliteStoreOptions options)
    {
        var path = Path.GetFullPath(options.Path);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SqliteRatchetStore>();
        SqliteConnection? connection = null;
        try
        {
            SqliteConnections.EnsureFolder(path);
            connection = SqliteConnections.Open(SqliteConnections.ConnectionString(path, pooling: false, options.BusyTimeout), options.BusyTimeout);

            // Look before writing anything: a newer, foreign or damaged file must be left byte-identical.
            SqliteMigrations.Inspect(connection, options.Path);

            SqliteConnections.Execute(connection, "PRAGMA journal_mode = WAL;");
            SqliteConnections.Execute(connection, $"PRAGMA synchronous = {options.Synchronous.ToString().ToUpperInvariant()};");
            SqliteConnections.Execute(connection, "PRAGMA foreign_keys = ON;"); SqliteConnections.Execute(connection, "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000;");
            foreach (var version in SqliteMigrations.MigrateUp(connection, options.Path, SqliteMigrations.LatestVersion, options.TimeProvider))
            {
                Log.MigrationApplied(logger, version, options.Path);
            }

            Log.Opened(logger, options.Path, SqliteMigrations.LatestVersion, options.Synchronous);
            var writer = new SqliteWriter(connection, options.TimeProvider, options.Path, options.MaxBatchSize, logger);
            var readConnectionString = SqliteConnections.ConnectionString(path, pooling: true, options.BusyTimeout);
            return new SqliteRatchetStore(options, path, readConnectionString, writer);
        }
        catch (Exception ex)
        {
            connection?.Dispose();
            throw SqliteErrors.Translate(ex, options.Path);
        }
    }

    /// <summary>Finishes queued writes, then closes every connection to the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _writer.DisposeAsync();
        using var connection = new SqliteConnection(_readConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    // ---- writes: all through the one writer ---------------------------------------------------------------------

    /// <inheritdoc />
    public Task CommitAsync(ChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.IsEmpty)
        {
            return Task.CompletedTask;
        }

        return _writer.EnqueueAsync(session =>
        {
            session.Apply(changes);
            return true;
        }, cancellationToken, MayFailAfterWriting(changes));
    }

    /// <summary>
    /// A change set that writes one workflow and appends only to that workflow can be refused only by its workflow
    /// write, which comes first: it needs no savepoint. Anything else might fail half-way and does.
    /// </summary>
    private static bool MayFailAfterWriting(ChangeSet changes)
    {
        if (changes.Workflows.Count != 1 || changes.Checks.Count > 0 || changes.ValueChecks.Count > 0 || changes.KeyValues.Count > 0)
        {
            return true;
        }

        var id = changes.Workflows[0].Record.Id;
        return changes.Steps.Any(s => s.WorkflowId != id) || changes.Events.Any(e => e.WorkflowId != id) ||
            changes.Commands.Any(c => c.WorkflowId != id) || changes.Workspaces.Any(w => w.WorkflowId != id);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        ValidateLease(request);
        return _writer.EnqueueAsync(session => session.ClaimDue(request), cancellationToken);
    }

    /// <inheritdoc />
    public Task<WorkflowRecord?> ClaimWorkflowAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ValidateOwner(owner, duration);
        return _writer.EnqueueAsync(session => session.ClaimOne(workflowId, owner, duration), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RenewLeaseAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ValidateOwner(owner, duration);
        return _writer.EnqueueAsync(session => session.Renew(workflowId, owner, duration), cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> RenewLeasesAsync(string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ValidateOwner(owner, duration);
        return _writer.EnqueueAsync(session => session.RenewAll(owner, duration), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> ReleaseLeaseAsync(string workflowId, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return _writer.EnqueueAsync(session => session.Release(workflowId, owner), cancellationToken);
    }

    /// <inheritdoc />
    public Task<CheckpointInfo> CreateCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
        return _writer.EnqueueAsync(session => session.CreateCheckpoint(@namespace, name), cancellationToken);
    }

    /// <inheritdoc />
    public Task RestoreCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
        return _writer.EnqueueAsync(session =>
        {
            session.RestoreCheckpoint(@namespace, name);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
        return _writer.EnqueueAsync(session => session.DeleteCheckpoint(@namespace, name), cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default) =>
        _writer.EnqueueAsync(session => session.Archive(olderThan), cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteWorkflowAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return _writer.EnqueueAsync(session => session.Delete(workflowId), cancellationToken);
    }

    /// <inheritdoc />
    public Task ImportAsync(StoreSnapshot snapshot, ImportMode mode = ImportMode.EmptyStoreOnly, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return _writer.EnqueueAsync(session =>
        {
            session.Import(snapshot, mode, Description);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Uses <c>VACUUM INTO</c>: the copy is consistent and compact. The destination must not exist.</remarks>
    public Task BackupAsync(string destinationPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationPath);
        var destination = Path.GetFullPath(destinationPath);
        if (File.Exists(destination))
        {
            throw new ArgumentException($"The backup file '{destinationPath}' already exists; choose a new file name so that no backup is overwritten.", nameof(destinationPath));
        }

        return ReadAsync(connection =>
        {
            SqliteConnections.EnsureFolder(destination);
            using var command = connection.CreateCommand();
            command.CommandText = "VACUUM INTO $destination;";
            command.Parameters.AddWithValue("$destination", destination);
            command.ExecuteNonQuery();
            return true;
        }, cancellationToken);
    }

    private static void ValidateLease(LeaseRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateOwner(request.Owner, request.Duration);
        if (request.MaxCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.MaxCount, "A lease request must ask for at least one workflow.");
        }
    }

    private static void ValidateOwner(string owner, TimeSpan duration)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A lease must last longer than zero.");
        }
    }
}
