using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ratchet.Storage;

namespace Ratchet.Redis;

/// <summary>
/// The distributed store on Redis: many worker processes on many machines share one store, every change set is
/// applied atomically by one Lua script, leases expire, and pub/sub wakes idle workers.
/// </summary>
/// <remarks>
/// <para><b>Keys</b> (all under <see cref="RedisStoreOptions.KeyPrefix"/>, <c>P</c> below):</para>
/// <list type="bullet">
/// <item><c>P schema</c>: the data model's version; a store written by a newer Ratchet is refused, untouched.</item>
/// <item><c>P wf:&lt;id&gt;</c>: a hash per workflow. <c>doc</c> is the record's JSON without the fields scripts change;
/// <c>v</c> the version, <c>lo</c>/<c>le</c> the lease owner and expiry, <c>up</c> the update time, <c>ar</c> the
/// archive time; <c>st</c>, <c>ty</c>, <c>pa</c>, <c>due</c>, <c>done</c>, <c>term</c>, <c>ck</c> copy what indexes and
/// filters need; <c>ss</c>, <c>es</c>, <c>cs</c> are the last step, event and command sequence numbers.</item>
/// <item><c>P sigs:&lt;id&gt;</c>: the workflow's pending signals (schema 2), a sorted set scored by sequence, each member
/// <c>&lt;sequence&gt;\n&lt;name&gt;\n&lt;json&gt;</c>; a consume removes its member in the commit that completes the wait.</item>
/// <item><c>P steps:&lt;id&gt;</c>, <c>P events:&lt;id&gt;</c>, <c>P cmds:&lt;id&gt;</c>: sorted sets scored by
/// sequence, each member <c>&lt;sequence&gt;\n&lt;json&gt;</c> (so windows of events are one range read).</item>
/// <item><c>P idx:created</c>: every workflow, as members <c>&lt;16 hex digits of created µs&gt;&lt;id&gt;</c> at score 0,
/// so lexicographic order is (created, id): listings walk it from a page token's position (keyset paging).
/// <c>P idx:active</c> holds the same members for non-terminal, unarchived workflows only, walked instead when a
/// listing asks only for active statuses.</item>
/// <item><c>P due</c>: non-terminal, unarchived workflows with a due time, scored by it in µs.
/// <c>P done</c>: terminal, unarchived workflows scored by completion, for archiving.
/// <c>P lease:&lt;owner&gt;</c>: the ids an owner leases, for renewing them all at once.</item>
/// <item><c>P ws</c>: workspaces by workflow id. <c>P kv:&lt;namespace&gt;</c>: a hash of
/// <c>&lt;version&gt;\n&lt;updated µs&gt;\n&lt;json&gt;</c> by key. <c>P cps:&lt;namespace&gt;</c>: checkpoints' creation time
/// and size by name; <c>P cp:&lt;namespace&gt;/&lt;name&gt;</c>: their values. <c>P ns</c>: the namespaces in use.</item>
/// <item>Channel <c>P work</c>: a message whenever a commit may have made work due.</item>
/// </list>
/// <para><b>Atomicity</b>: every write (a change set, a claim, a checkpoint, archive, delete, import) is one script.
/// Redis runs a script alone, but does not undo a script's earlier writes when it fails half-way, so each script first
/// checks everything (versions against the stored ones plus the change set's own earlier effects) and only then
/// writes; a refused change set writes nothing. Arguments go as flat ARGV lists rather than JSON: nothing is decoded
/// by cjson (whose empty-array and large-number handling would need care), and JSON values stay opaque strings whose
/// bytes round-trip exactly. Times are the store's <see cref="RedisStoreOptions.TimeProvider"/>'s, passed in as
/// microseconds; scripts never read the server's clock.</para>
/// <para><b>Durability</b> is the server's: see <c>docs/REDIS.md</c>. Opening checks <c>appendonly</c>,
/// <c>appendfsync</c> and <c>maxmemory-policy</c> and reports unsafe settings in <see cref="PersistenceWarning"/>.</para>
/// <para>One Redis server or primary; Redis Cluster is not supported (scripts touch keys they compute).</para>
/// </remarks>
public sealed partial class RedisRatchetStore : RatchetStoreBase, IWorkNotifier
{
    /// <summary>The data model version this binary writes and reads.</summary>
    /// <remarks>
    /// 2 added queues (<c>qu</c> on a workflow, <c>qall:</c>, <c>queues</c>, <c>qstarts:</c>) and pending signals
    /// (<c>sigs:&lt;id&gt;</c>); a store at 1 is moved up in place when opened (its workflows are in no queue and have
    /// no signals), and the newer number keeps a Ratchet that would ignore queue limits and signals from opening it.
    /// </remarks>
    public const int SchemaVersion = 2;

    private readonly IRedisClient _client;
    private readonly RedisStoreOptions _options;
    private readonly string _prefix;
    private readonly ILogger _logger;
    private readonly Lock _handlersLock = new();
    private Action[] _handlers = [];
    private IDisposable? _subscription;
    private int _disposed;

    private RedisRatchetStore(IRedisClient client, RedisStoreOptions options, string description, ILogger logger)
    {
        _client = client;
        _options = options;
        _prefix = options.KeyPrefix;
        _logger = logger;
        Description = description;
    }

    /// <inheritdoc />
    public override string Description { get; }

    /// <summary>
    /// Why the server's settings do not keep Ratchet's durability promise (AOF off, <c>appendfsync</c> not
    /// <c>always</c>, an evicting memory policy), or that they could not be checked; null when they are safe.
    /// </summary>
    public string? PersistenceWarning { get; private set; }

    /// <summary>Connects, checks the data model version and the server's persistence settings.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    /// <exception cref="StoreUnavailableException">The server cannot be reached.</exception>
    /// <exception cref="StoreSchemaException">The keys were written by a newer Ratchet. Nothing was written.</exception>
    /// <exception cref="StoreCorruptException">The schema key holds something Ratchet did not write.</exception>
    /// <exception cref="StoreOperationException"><see cref="RedisStoreOptions.RequireDurablePersistence"/> is set and the server's settings are unsafe.</exception>
    public static async Task<RedisRatchetStore> OpenAsync(RedisStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Redis store options: " + string.Join(" ", problems), nameof(options));
        }

        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RedisRatchetStore>();
        var client = await StackExchangeRedisClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        var store = new RedisRatchetStore(client, options, RedisStoreOptions.Describe(client.Endpoint, options.Database, options.KeyPrefix), logger);
        try
        {
            await store.CheckSchemaAsync(cancellationToken).ConfigureAwait(false);
            store.PersistenceWarning = await store.CheckPersistenceAsync(cancellationToken).ConfigureAwait(false);
            if (store.PersistenceWarning is { } warning)
            {
                if (options.RequireDurablePersistence)
                {
                    throw new StoreOperationException(
                        $"The Redis store {store.Description} is not durable enough: {warning} RequireDurablePersistence is set, so the store was not opened.");
                }

                Log.PersistenceUnsafe(logger, store.Description, warning);
            }

            store._subscription = await client.SubscribeAsync(store._prefix + "work", store.OnWork, cancellationToken).ConfigureAwait(false);
            Log.Opened(logger, store.Description, SchemaVersion);
            return store;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task CheckSchemaAsync(CancellationToken cancellationToken)
    {
        // One script looks before it writes: a new store gets the schema key, an older one is moved up in place (each
        // version so far only adds keys), and keys of a newer Ratchet or of another program are left as they are.
        var key = _prefix + "schema";
        var reply = (await EvaluateAsync(RedisScripts.Schema, [_prefix, SchemaVersion.ToString(CultureInfo.InvariantCulture)], cancellationToken)
            .ConfigureAwait(false)).AsArray();
        if (reply[0].AsText() is "created" or "upgraded")
        {
            return;
        }

        var text = reply[1].AsText();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
        {
            throw new StoreCorruptException(
                $"The key '{key}' of the Redis store {Description} holds '{text}' instead of a schema version: the prefix is used by something else. Choose another KeyPrefix.");
        }

        if (version > SchemaVersion)
        {
            throw new StoreSchemaException(
                $"The Redis store {Description} was written by a newer Ratchet (schema {version}); this Ratchet reads up to schema {SchemaVersion}. Upgrade Ratchet to open it.",
                version, SchemaVersion);
        }
    }

    private async Task<string?> CheckPersistenceAsync(CancellationToken cancellationToken)
    {
        var settings = await _client.ConfigGetAsync(["appendonly", "appendfsync", "maxmemory-policy"], cancellationToken).ConfigureAwait(false);
        if (settings is null)
        {
            return "the server refuses CONFIG GET, so its persistence settings could not be checked; make sure it runs with appendonly yes, appendfsync always and maxmemory-policy noeviction (see docs/REDIS.md).";
        }

        var problems = new List<string>();
        if (!string.Equals(settings.GetValueOrDefault("appendonly"), "yes", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("AOF is off (appendonly no): a restart loses everything since the last RDB snapshot");
        }
        else if (!string.Equals(settings.GetValueOrDefault("appendfsync"), "always", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"appendfsync is '{settings.GetValueOrDefault("appendfsync")}', not 'always': a power loss can lose about the last second of acknowledged commits");
        }

        if (settings.GetValueOrDefault("maxmemory-policy") is { } policy && !string.Equals(policy, "noeviction", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"maxmemory-policy is '{policy}', not 'noeviction': when memory runs out Redis deletes keys, and with them workflows");
        }

        return problems.Count == 0
            ? null
            : string.Join("; ", problems) + ". Set appendonly yes, appendfsync always and maxmemory-policy noeviction (see docs/REDIS.md).";
    }

    /// <inheritdoc />
    public IDisposable SubscribeToWork(Action onWorkDue)
    {
        ArgumentNullException.ThrowIfNull(onWorkDue);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        lock (_handlersLock)
        {
            _handlers = [.. _handlers, onWorkDue];
        }

        return new Unsubscriber(this, onWorkDue);
    }

    private void OnWork()
    {
        foreach (var handler in Volatile.Read(ref _handlers))
        {
            try
            {
                handler();
            }
            catch (Exception ex)
            {
                // A hint's handler runs on the driver's thread: a throwing one must not stop the others or the driver.
                Log.NotificationFailed(_logger, Description, ex);
            }
        }
    }

    /// <summary>Stops the subscription and closes the connection, letting commands in flight complete.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _subscription?.Dispose();
        await _client.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Deletes every key of this store (its prefix), for tests and for dropping a store; how many.</summary>
    internal Task<long> DeleteAllKeysAsync(CancellationToken cancellationToken = default) =>
        _client.DeleteKeysAsync(_prefix + "*", cancellationToken);

    private string NowMicros() => RedisRecords.Micros(_options.TimeProvider.GetStoreNow());

    private Task<RedisReply> EvaluateAsync(RedisScript script, List<string> args, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        return _client.EvaluateAsync(script, args, cancellationToken);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class Unsubscriber(RedisRatchetStore store, Action handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            lock (store._handlersLock)
            {
                var handlers = store._handlers.ToList();
                handlers.Remove(handler);
                store._handlers = [.. handlers];
            }
        }
    }
}
