using Ratchet.Storage;

namespace Ratchet.Redis;

/// <summary>The Redis store as a URI names it: <c>redis://[:password@]host[:port][/db][?prefix=name]</c>, or <c>rediss://</c> for TLS.</summary>
public sealed class RedisStoreProvider() : StoreProvider<RedisStoreOptions>("redis", "redis://HOST:PORT/DB", StringComparison.OrdinalIgnoreCase, "redis://", "rediss://")
{
    /// <inheritdoc />
    public override RedisStoreOptions Parse(string uri) => ParseWith(uri, RedisStoreOptions.FromUri);

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(RedisStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken) =>
        await RedisRatchetStore.OpenAsync(options, cancellationToken);
}
