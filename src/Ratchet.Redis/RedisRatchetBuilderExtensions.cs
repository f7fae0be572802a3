using Ratchet.Engine;

namespace Ratchet.Redis;

/// <summary>Chooses the Redis store for an engine, on the plain builder or in a host.</summary>
public static class RedisRatchetBuilderExtensions
{
    /// <summary>
    /// Opens the Redis store at <paramref name="uri"/> (<c>redis://[:password@]host:port/db[?prefix=…]</c> or
    /// <c>host:port</c>) when the engine is built, and closes it with the engine.
    /// </summary>
    public static TBuilder UseRedis<TBuilder>(this TBuilder builder, string uri, Action<RedisStoreOptions>? configure = null)
        where TBuilder : class, IRatchetBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        return builder.UseStore(RedisStoreOptions.FromUri(uri), static async (o, ct) => await RedisRatchetStore.OpenAsync(o, ct), configure);
    }
}
