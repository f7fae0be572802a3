using System.Collections.Concurrent;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Redis.Tests;

/// <summary>
/// Each conformance test's Redis store: the server in <c>RATCHET_TEST_REDIS</c>, under a key prefix of its own, whose
/// keys are deleted when the store is dropped.
/// </summary>
public sealed class RedisStoreFactory : StoreFactory
{
    private readonly ConcurrentDictionary<IRatchetStore, string> _prefixes = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc />
    public override string Name => "redis";

    /// <summary>The test server's address; skips (or fails in CI) when it is not configured.</summary>
    public static string Server => TestEnvironment.RequireServer(TestEnvironment.RedisVariable, "Redis");

    /// <summary>A prefix no other test uses.</summary>
    public static string NewPrefix() => $"ratchet-test:{Guid.NewGuid():N}:";

    /// <summary>Opens a store on the test server under <paramref name="prefix"/>.</summary>
    public static async Task<RedisRatchetStore> OpenAsync(string prefix, TimeProvider clock, Action<RedisStoreOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = RedisStoreOptions.FromUri(Server);
        options.KeyPrefix = prefix;
        options.TimeProvider = clock;
        configure?.Invoke(options);
        try
        {
            return await RedisRatchetStore.OpenAsync(options, cancellationToken);
        }
        catch (StoreUnavailableException ex)
        {
            throw TestEnvironment.Unavailable($"The Redis server in {TestEnvironment.RedisVariable} does not answer: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public override async Task<IRatchetStore> CreateStoreAsync(TimeProvider clock, CancellationToken cancellationToken = default)
    {
        var prefix = NewPrefix();
        var store = await OpenAsync(prefix, clock, cancellationToken: cancellationToken);
        _prefixes[store] = prefix;
        return store;
    }

    /// <inheritdoc />
    public override async Task DropStoreAsync(IRatchetStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (_prefixes.TryRemove(store, out _) && store is RedisRatchetStore redis)
        {
            await redis.DeleteAllKeysAsync(cancellationToken);
        }

        await store.DisposeAsync();
    }

    /// <inheritdoc />
    public override async Task<IRatchetStore> ReopenStoreAsync(IRatchetStore store, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!_prefixes.TryRemove(store, out var prefix))
        {
            throw new ArgumentException("This factory did not create that store, or it was dropped.", nameof(store));
        }

        await store.DisposeAsync();
        var reopened = await OpenAsync(prefix, clock, cancellationToken: cancellationToken);
        _prefixes[reopened] = prefix;
        return reopened;
    }
}
