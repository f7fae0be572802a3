using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ratchet.Sqlite;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode, <c>synchronous=FULL</c> by default, safe for several
/// processes at once. Writes go through one writer that commits the change sets of many concurrent callers in one
/// transaction (group commit); reads use pooled connections and never wait for writes.
/// </summary>
public sealed partial class SqliteRatchetStore : RatchetStoreBase
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
    public override string Description => $"sqlite:{_options.Path}";

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
    public override async ValueTask DisposeAsync()
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
    protected override Task CommitCoreAsync(ChangeSet changes, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session =>
        {
            session.Apply(changes);
            return true;
        }, cancellationToken, MayFailAfterWriting(changes));

    /// <summary>
    /// A change set that writes one workflow and appends only to that workflow can be refused only by its workflow
    /// write, which comes first: it needs no savepoint. Anything else might fail half-way and does.
    /// </summary>
    private static bool MayFailAfterWriting(ChangeSet changes)
    {
        if (changes.Workflows.Count != 1 || changes.Checks.Count > 0 || changes.ValueChecks.Count > 0 || changes.KeyValues.Count > 0 || changes.HasSignals)
        {
            return true;
        }

        var id = changes.Workflows[0].Record.Id;
        return changes.Steps.Any(s => s.WorkflowId != id) || changes.Events.Any(e => e.WorkflowId != id) ||
            changes.Commands.Any(c => c.WorkflowId != id) || changes.Workspaces.Any(w => w.WorkflowId != id);
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsCoreAsync(LeaseRequest request, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.ClaimDue(request), cancellationToken);

    /// <inheritdoc />
    protected override Task<WorkflowRecord?> ClaimWorkflowCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.ClaimOne(workflowId, owner, duration), cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> RenewLeaseCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.Renew(workflowId, owner, duration), cancellationToken);

    /// <inheritdoc />
    protected override Task<int> RenewLeasesCoreAsync(string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.RenewAll(owner, duration), cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> ReleaseLeaseCoreAsync(string workflowId, string owner, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.Release(workflowId, owner), cancellationToken);

    /// <inheritdoc />
    protected override Task<CheckpointInfo> CreateCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.CreateCheckpoint(@namespace, name), cancellationToken);

    /// <inheritdoc />
    protected override Task RestoreCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session =>
        {
            session.RestoreCheckpoint(@namespace, name);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> DeleteCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.DeleteCheckpoint(@namespace, name), cancellationToken);

    /// <inheritdoc />
    public override Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default) =>
        _writer.EnqueueAsync(session => session.Archive(olderThan), cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> DeleteWorkflowCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session => session.Delete(workflowId), cancellationToken);

    /// <inheritdoc />
    protected override Task ImportCoreAsync(StoreSnapshot snapshot, ImportMode mode, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(session =>
        {
            session.Import(snapshot, mode, Description);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Uses <c>VACUUM INTO</c>: the copy is consistent and compact.</remarks>
    protected override Task BackupCoreAsync(string destination, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            SqliteConnections.EnsureFolder(destination);
            using var command = connection.CreateCommand();
            command.CommandText = "VACUUM INTO $destination;";
            command.Parameters.AddWithValue("$destination", destination);
            command.ExecuteNonQuery();
            return true;
        }, cancellationToken);
}
