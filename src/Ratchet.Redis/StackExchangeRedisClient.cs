using System.Net;
using StackExchange.Redis;

namespace Ratchet.Redis;

/// <summary>
/// <see cref="IRedisClient"/> on StackExchange.Redis (3.x): one multiplexed connection, so concurrent callers' commands
/// are pipelined on it without waiting for each other.
/// </summary>
/// <remarks>
/// Every command is either answered or fails: nothing is queued while the connection is down and nothing is sent again
/// by the driver (see <see cref="Configure"/>). Retrying is the caller's decision, since only the caller knows whether a
/// commit that may have run can be sent again; the engine reads before it writes again.
/// </remarks>
internal sealed class StackExchangeRedisClient : IRedisClient
{
    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly string _description;
    private readonly int _databaseNumber;
    private readonly ConfigurationOptions _configuration;

    private StackExchangeRedisClient(ConnectionMultiplexer connection, ConfigurationOptions configuration, int database, string endpoint, string description)
    {
        _connection = connection;
        _configuration = configuration;
        _databaseNumber = database;
        _database = connection.GetDatabase(database);
        Endpoint = endpoint;
        _description = description;
    }

    public string Endpoint { get; }

    /// <summary>Connects; fails with <see cref="StoreUnavailableException"/> when the server cannot be reached.</summary>
    public static async Task<StackExchangeRedisClient> ConnectAsync(RedisStoreOptions options, CancellationToken cancellationToken)
    {
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(options.Configuration);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The Redis configuration '{RedisStoreOptions.Redact(options.Configuration)}' cannot be read: {ex.Message}", nameof(options), ex);
        }

        Configure(configuration, options);
        var endpoint = configuration.EndPoints.Count > 0 ? Format(configuration.EndPoints[0]) : "?";
        var description = RedisStoreOptions.Describe(endpoint, options.Database, options.KeyPrefix);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
            return new StackExchangeRedisClient(connection, configuration, options.Database, endpoint, description);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new StoreUnavailableException(
                $"The Redis store {description} cannot be reached: {ex.Message} Check that the server runs and that the address, port and password are right.", ex);
        }
    }

    /// <summary>The driver settings the store relies on, set explicitly rather than left to the driver's defaults, which change between releases.</summary>
    private static void Configure(ConfigurationOptions configuration, RedisStoreOptions options)
    {
        if (options.Password is { Length: > 0 } password)
        {
            configuration.Password = password;
        }

        // No admin mode on the store's connection: it sends only the store's own commands and scripts. (The driver
        // refuses CONFIG and INFO without it, so the persistence check has a short-lived connection of its own.)
        configuration.AllowAdmin = false;
        configuration.AbortOnConnectFail = true;
        configuration.ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds;
        configuration.SyncTimeout = (int)options.OperationTimeout.TotalMilliseconds;
        configuration.AsyncTimeout = (int)options.OperationTimeout.TotalMilliseconds;
        configuration.ClientName ??= "ratchet";

        // While the connection is down a command fails at once (StoreUnavailableException) instead of waiting in the
        // driver's backlog to be sent when it comes back: a commit is either answered or fails, never sent later behind
        // the caller's back, as the 1.x driver behaved. Commands in flight when the connection drops fail too.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;

        // Reconnect soon after the server returns (a restart, a failover), at most a second apart, so that a worker's
        // next poll finds the store again; reconnecting resends nothing.
        configuration.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 100, maxDeltaBackOffMilliseconds: 1000);

        // RESP2, as the store's scripts and replies were written for; RESP3 would change the shape of some replies.
        configuration.Protocol = RedisProtocol.Resp2;
    }

    public async Task<RedisReply> EvaluateAsync(RedisScript script, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var values = new RedisValue[arguments.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = arguments[i];
        }

        return await RunAsync(async () =>
        {
            RedisResult result;
            try
            {
                result = await _database.ScriptEvaluateAsync(script.Sha1, null, values).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                // The server's script cache was flushed or it restarted: EVAL sends the source and caches it again.
                result = await _database.ScriptEvaluateAsync(script.Text, null, values).ConfigureAwait(false);
            }

            return (RedisReply)new Reply(result);
        }, $"script '{script.Name}'", cancellationToken).ConfigureAwait(false);
    }

    public Task<string?> StringGetAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(async () => (string?)await _database.StringGetAsync(key).ConfigureAwait(false), "GET", cancellationToken);

    public Task<bool> StringSetIfAbsentAsync(string key, string value, CancellationToken cancellationToken) =>
        RunAsync(() => _database.StringSetAsync(key, value, when: When.NotExists), "SET NX", cancellationToken);

    public Task<string?> HashGetAsync(string key, string field, CancellationToken cancellationToken) =>
        RunAsync(async () => (string?)await _database.HashGetAsync(key, field).ConfigureAwait(false), "HGET", cancellationToken);

    public Task<IReadOnlyList<KeyValuePair<string, string>>> HashGetAllAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            var entries = await _database.HashGetAllAsync(key).ConfigureAwait(false);
            var result = new KeyValuePair<string, string>[entries.Length];
            for (var i = 0; i < entries.Length; i++)
            {
                result[i] = new KeyValuePair<string, string>(entries[i].Name!, entries[i].Value!);
            }

            return (IReadOnlyList<KeyValuePair<string, string>>)result;
        }, "HGETALL", cancellationToken);

    public Task<IReadOnlyList<string>> SortedSetRangeByScoreAsync(string key, double min, double max, long skip, long take, CancellationToken cancellationToken) =>
        RunAsync(async () => Strings(await _database.SortedSetRangeByScoreAsync(key, min, max, skip: skip, take: take).ConfigureAwait(false)),
            "ZRANGEBYSCORE", cancellationToken);

    public Task<IReadOnlyList<string>> SetMembersAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(async () => Strings(await _database.SetMembersAsync(key).ConfigureAwait(false)), "SMEMBERS", cancellationToken);

    /// <remarks>
    /// StackExchange.Redis sends CONFIG only on a connection in its admin mode (a check in the client, not a permission
    /// on the server), so the parameters are read on a second connection that is made for this, in admin mode, sends
    /// nothing but these CONFIG GETs (one per parameter: servers before 7 take one at a time) and is closed. Whether
    /// CONFIG GET is allowed is then the server's decision (its ACL, a renamed or disabled command).
    /// </remarks>
    public async Task<IReadOnlyDictionary<string, string>?> ConfigGetAsync(IReadOnlyList<string> parameters, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(async () =>
            {
                var check = _configuration.Clone();
                check.AllowAdmin = true;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(check).ConfigureAwait(false);
                var server = connection.GetServer(connection.GetEndPoints()[0]);
                var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var parameter in parameters)
                {
                    foreach (var (name, value) in await server.ConfigGetAsync(parameter).ConfigureAwait(false))
                    {
                        settings[name] = value;
                    }
                }

                return (IReadOnlyDictionary<string, string>?)settings;
            }, "CONFIG GET", cancellationToken).ConfigureAwait(false);
        }
        catch (StoreOperationException ex) when (!ex.IsTransient)
        {
            // Managed services rename or disable CONFIG; the caller reports that the settings could not be checked.
            return null;
        }
    }

    public Task<IDisposable> SubscribeAsync(string channel, Action onMessage, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            var subscriber = _connection.GetSubscriber();
            var literal = RedisChannel.Literal(channel);
            Action<RedisChannel, RedisValue> handler = (_, _) => onMessage();
            await subscriber.SubscribeAsync(literal, handler).ConfigureAwait(false);
            return (IDisposable)new Subscription(subscriber, literal, handler);
        }, "SUBSCRIBE", cancellationToken);

    public Task<long> DeleteKeysAsync(string pattern, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            var server = _connection.GetServer(_connection.GetEndPoints()[0]);
            long deleted = 0;
            var batch = new List<RedisKey>(512);
            await foreach (var key in server.KeysAsync(_databaseNumber, pattern, pageSize: 512).ConfigureAwait(false))
            {
                batch.Add(key);
                if (batch.Count == 512)
                {
                    deleted += await _database.KeyDeleteAsync(batch.ToArray()).ConfigureAwait(false);
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                deleted += await _database.KeyDeleteAsync(batch.ToArray()).ConfigureAwait(false);
            }

            return deleted;
        }, "SCAN/DEL", cancellationToken);

    public async ValueTask DisposeAsync() => await _connection.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);

    private async Task<T> RunAsync<T>(Func<Task<T>> operation, string what, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            // The driver cannot abandon a sent command; cancelling stops the wait, not the command.
            return await operation().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            throw new StoreUnavailableException(
                $"The Redis store {_description} cannot be reached ({what}): {ex.Message} Check that the server runs; the operation can be retried.", ex);
        }
        catch (RedisTimeoutException ex)
        {
            throw new StoreUnavailableException(
                $"The Redis store {_description} did not answer {what} in time: {ex.Message} The server may be overloaded or blocked; retry, or raise OperationTimeout.", ex);
        }
        catch (TimeoutException ex)
        {
            throw new StoreUnavailableException(
                $"The Redis store {_description} did not answer {what} in time: {ex.Message} Retry, or raise OperationTimeout.", ex);
        }
        catch (RedisServerException ex)
        {
            // Conditions that pass (a long script, a restart, a failover, memory freed or raised) are worth retrying;
            // OOM and READONLY are among them, as PostgreSQL's out-of-resources errors are.
            var transient = ex.Message.StartsWith("BUSY", StringComparison.Ordinal) || ex.Message.StartsWith("LOADING", StringComparison.Ordinal) ||
                ex.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || ex.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal) ||
                ex.Message.StartsWith("OOM", StringComparison.Ordinal) || ex.Message.StartsWith("READONLY", StringComparison.Ordinal);
            var hint = ex.Message.StartsWith("OOM", StringComparison.Ordinal)
                ? " The server is out of memory (maxmemory): raise maxmemory; Ratchet needs maxmemory-policy noeviction."
                : ex.Message.StartsWith("READONLY", StringComparison.Ordinal)
                    ? " The server is a read-only replica: point the store at the primary."
                    : "";
            throw new StoreOperationException($"The Redis store {_description} refused {what}: {ex.Message.TrimEnd('.')}.{hint}", ex, transient);
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException)
        {
            // RedisCommandException is the driver refusing a command before sending it (disabled in its command map).
            throw new StoreOperationException($"The Redis store {_description} failed {what}: {ex.Message}", ex);
        }
        catch (ObjectDisposedException ex) when (ex.ObjectName?.Contains("Multiplexer", StringComparison.Ordinal) == true)
        {
            throw new StoreUnavailableException($"The Redis store {_description} is closed.", ex);
        }
    }

    private static IReadOnlyList<string> Strings(RedisValue[] values)
    {
        var result = new string[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i]!;
        }

        return result;
    }

    private static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        IPEndPoint ip => ip.ToString(),
        _ => endpoint.ToString() ?? "?",
    };

    private sealed class Reply(RedisResult result) : RedisReply
    {
        public override bool IsNull => result.IsNull;

        public override string AsText() => (string?)result ?? "";

        public override long AsInteger() => (long)result;

        public override IReadOnlyList<RedisReply> AsArray()
        {
            var items = (RedisResult[]?)result;
            if (items is null)
            {
                return [];
            }

            var replies = new RedisReply[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                replies[i] = new Reply(items[i]);
            }

            return replies;
        }
    }

    private sealed class Subscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                subscriber.Unsubscribe(channel, handler, CommandFlags.FireAndForget);
            }
        }
    }
}
