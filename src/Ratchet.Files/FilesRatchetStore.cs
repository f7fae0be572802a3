using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ratchet.Storage;

namespace Ratchet.Files;

/// <summary>
/// The JSON-file store: every record is a file a person can read, under one root folder. For development, inspection
/// and tiny deployments, not for throughput.
/// </summary>
/// <remarks>
/// <para><b>Layout</b> (names encoded as described below):</para>
/// <list type="bullet">
/// <item><c>format.json</c>: the layout's version; a root written by a newer Ratchet is refused, untouched.</item>
/// <item><c>workflows/&lt;id&gt;/state.json</c> (the <see cref="WorkflowRecord"/>, version and lease included),
/// <c>steps.jsonl</c>, <c>events.jsonl</c>, <c>commands.jsonl</c> (one record per line, in sequence order) and
/// <c>workspace.json</c>.</item>
/// <item><c>kv/&lt;namespace&gt;/values/&lt;key&gt;.json</c> (a <see cref="KeyValueEntry"/>) and
/// <c>kv/&lt;namespace&gt;/checkpoints/&lt;name&gt;.json</c> (a <see cref="CheckpointRecord"/> with its values).</item>
/// <item><c>journal/intent.json</c>: present only while a commit is being applied. <c>.lock</c>: the lock file.</item>
/// </list>
/// <para><b>Names in file names</b>: ASCII lower-case letters, digits, '-' and '_' are kept; an upper-case letter
/// <c>X</c> becomes <c>^x</c> (so names differing in case stay apart on case-insensitive file systems); any other
/// character, '.' included, becomes '%' and the hex of its UTF-8 bytes (<c>a.b/c</c> cannot occur; <c>a.b</c> is
/// <c>a%2Eb</c>). An encoding longer than 120 characters is cut to 80 and followed by '~' and 32 hex digits of the
/// name's SHA-256. A name Windows reserves (<c>con</c>, <c>nul</c>, <c>com1</c>…) has its first letter
/// percent-encoded. The store never decodes file names: each file holds its record's own id, namespace, key or name.</para>
/// <para><b>Atomicity</b>: every file is replaced whole: written to <c>&lt;file&gt;.tmp</c>, fsynced, the current file
/// renamed to <c>&lt;file&gt;.bak</c> (its last good copy, so the store takes up to twice its data's space), the new one renamed into place, and the folder fsynced.
/// JSON-lines files are rewritten whole too (an append costs the whole file: simple and never torn). A commit that
/// touches several files first writes every file's new content (or its deletion) to <c>journal/intent.json</c> the same
/// way, then applies the operations, then deletes the intent. Whoever takes the lock next (this process or another,
/// on open or before any operation) and finds an intent applies it again: each operation sets a whole file, so doing
/// it twice is harmless, and the commit ends up applied entirely. Checks (versions, existence) run against the files
/// before the intent is written, so a refused commit writes nothing.</para>
/// <para><b>Damaged files</b>: the <c>.bak</c> is never served in place of a damaged file. Every read follows the
/// replay of any interrupted commit, so each file holds what its last commit wrote (and reported durable) and its
/// <c>.bak</c> what the commit before wrote: a file that does not parse, or is missing while its <c>.bak</c> is there,
/// was damaged after it was committed, and its <c>.bak</c> is older than what was committed. Such a file, and a workflow
/// folder holding records but no <c>state.json</c>, is refused with <see cref="StoreCorruptException"/> naming it and
/// saying what to do; nothing is written, and the <c>.bak</c> stays for a person to inspect. A crash during a commit,
/// the case the copies were for, is completed from the intent instead. The refusal covers the damaged record only:
/// reads and writes of other workflows keep working; listings, due-work queries, claims, lease renewals, archiving and
/// namespace and checkpoint listings leave a damaged record out with a warning (event 2203); an export, a namespace's
/// values (a checkpoint copies them, a restore replaces them) and every direct read of the record refuse.</para>
/// <para><b>Concurrency</b>: every operation, read or write, holds <c>&lt;root&gt;/.lock</c> (opened with
/// <see cref="FileShare.None"/>: an exclusive <c>flock</c> on Unix) for its duration, so several processes can share a
/// root; one waiting longer than <see cref="FilesStoreOptions.LockTimeout"/> fails with
/// <see cref="StoreUnavailableException"/>. Within a process, operations run one at a time. (Setting
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> turns .NET's file locking off, and with it this protection.)</para>
/// <para><b>Failures</b>: an I/O error (disk full, permissions) fails the operation with a transient
/// <see cref="StoreOperationException"/>. If it struck after the commit's intent was durable, the commit is not lost:
/// the next operation, in any process, completes it; a caller that retries should read before writing again, as
/// after any ambiguous commit.</para>
/// <para><b>Limits</b>: listings, due-work queries, claims and archiving read every <c>state.json</c>; appending to a
/// journal rewrites the workflow's whole <c>.jsonl</c> file; every commit fsyncs several files and folders. Expect
/// tens to hundreds of commits per second and keep to thousands of workflows. The lock is advisory and needs a local
/// file system (not NFS). Use SQLite or PostgreSQL beyond that.</para>
/// </remarks>
public sealed partial class FilesRatchetStore : RatchetStoreBase
{
    /// <summary>The layout version this binary writes and reads.</summary>
    public const int FormatVersion = 1;

    private const string FormatFile = "format.json";
    private const string LockFile = ".lock";

    private readonly FilesStoreOptions _options;
    private readonly FilesDisk _disk;
    private readonly string _lockPath;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _disposed;

    private FilesRatchetStore(FilesStoreOptions options, FilesDisk disk)
    {
        _options = options;
        _disk = disk;
        _lockPath = disk.Full(LockFile);
    }

    /// <inheritdoc />
    public override string Description => $"files:{_options.Root}";

    /// <summary>
    /// Opens (creating if needed) the store under <see cref="FilesStoreOptions.Root"/>, completing a commit a crash
    /// interrupted, if any.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    /// <exception cref="StoreSchemaException">The root was written by a newer Ratchet. Nothing was written.</exception>
    /// <exception cref="StoreCorruptException">The root is not a Ratchet file store, or its format file or an interrupted commit is damaged.</exception>
    /// <exception cref="StoreUnavailableException">The root stays locked by another process.</exception>
    public static async Task<FilesRatchetStore> OpenAsync(FilesStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid file store options: " + string.Join(" ", problems), nameof(options));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var root = Path.GetFullPath(options.Root);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FilesRatchetStore>();
        try
        {
            // Look before writing anything: a newer or foreign folder must be left as it is.
            var hasFormat = InspectFormat(root, options.Root);
            Directory.CreateDirectory(root);
            var disk = new FilesDisk(root, logger);
            var store = new FilesRatchetStore(options, disk);
            await using (await FileLock.AcquireAsync(store._lockPath, options.LockTimeout, store.Description, cancellationToken).ConfigureAwait(false))
            {
                if (!hasFormat && !InspectFormat(root, options.Root))
                {
                    disk.WriteAlone(FormatFile, FilesJson.Utf8($$"""{ "formatVersion": {{FormatVersion}} }""" + "\n"));
                }

                disk.Recover();
            }

            Log.Opened(logger, root, FormatVersion);
            return store;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"The file store '{options.Root}' cannot be opened: {ex.Message}", ex);
        }
    }

    /// <summary>Whether the root has a format file; refuses a newer or damaged one, or a non-empty folder without one.</summary>
    private static bool InspectFormat(string root, string shownRoot)
    {
        var formatPath = Path.Combine(root, FormatFile);

        // Look at the folder before the format file: a store writes its format file before anything else and never
        // removes it, so other entries seen first and no format file seen after mean a foreign folder, even while
        // another process is creating the store.
        var hasOtherEntries = Directory.Exists(root) &&
            Directory.EnumerateFileSystemEntries(root).Any(e => Path.GetFileName(e) is not (LockFile or FormatFile or FormatFile + ".tmp"));
        if (!File.Exists(formatPath))
        {
            if (hasOtherEntries)
            {
                throw new StoreCorruptException(
                    $"The folder '{shownRoot}' holds files but no '{FormatFile}': it is not a Ratchet file store. Choose an empty or new folder.");
            }

            return false;
        }

        int version;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(formatPath));
            version = document.RootElement.GetProperty("formatVersion").GetInt32();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new StoreCorruptException($"The format file '{formatPath}' is damaged ({ex.Message}); it should read {{ \"formatVersion\": {FormatVersion} }}.", ex);
        }

        if (version > FormatVersion)
        {
            throw new StoreSchemaException(
                $"The file store '{shownRoot}' is in format {version}; this Ratchet reads up to format {FormatVersion}. Upgrade Ratchet to open it.",
                version, FormatVersion);
        }

        if (version < 1)
        {
            throw new StoreCorruptException($"The format file '{formatPath}' names format {version}; formats start at 1.");
        }

        return true;
    }

    /// <summary>Waits for the running operation, then refuses new ones.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        _gate.Release();
    }

    /// <summary>
    /// Runs one operation: in-process turn, the root's lock, completion of an interrupted commit, the work on a
    /// session, then the session's writes as one commit.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<FilesSession, T> operation, CancellationToken cancellationToken, [CallerMemberName] string caller = "")
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        cancellationToken.ThrowIfCancellationRequested();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
            await using var held = await FileLock.AcquireAsync(_lockPath, _options.LockTimeout, Description, cancellationToken).ConfigureAwait(false);
            _disk.Recover();
            var session = new FilesSession(_disk, _options.TimeProvider.GetStoreNow(), caller);
            var result = operation(session);
            _disk.Commit(session.BuildPlan());

            // Gone since the lock was taken, an empty answer (nothing due, nothing listed) would be a false one.
            return Directory.Exists(_disk.Root) ? result : throw FileLock.Gone(Description, _disk.Root, null);
        }
        catch (Exception ex) when (ex is not StoreUnavailableException and not OperationCanceledException && !Directory.Exists(_disk.Root))
        {
            // The folder went away while the operation ran: what it met (a workflow not found, a half-seen folder)
            // says nothing about the store, only that it is not there.
            throw FileLock.Gone(Description, _disk.Root, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreOperationException($"The file store {Description} failed: {ex.Message}", ex, isTransient: true);
        }
        finally
        {
            _gate.Release();
        }
    }
}
