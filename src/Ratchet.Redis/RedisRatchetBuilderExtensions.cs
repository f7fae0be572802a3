using Ratchet.Engine;

namespace Ratchet.Redis;

/// <summary>Chooses the Redis store for an engine.</summary>
public static class RedisRatchetBuilderExtensions
{
    /// <summary>
    /// Opens the Redis store at <paramref name="uri"/> (<c>redis://[:password@]host:port/db[?prefix=…]</c> or
    /// <c>host:port</c>) when the engine is built, and closes it with the engine.
    /// </summary>
    public static RatchetBuilder UseRedis(this RatchetBuilder builder, string uri, Action<RedisStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(uri, configure);

        return builder.UseStore(options, static async (o, ct) => await RedisRatchetStore.OpenAsync(o, ct));
    }

    /// <summary>Uses the Redis store at <paramref name="uri"/> for the host's engine.</summary>
    public static RatchetServiceBuilder UseRedis(this RatchetServiceBuilder builder, string uri, Action<RedisStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(uri, configure);
        return builder.UseStore(options, static async (o, ct) => await RedisRatchetStore.OpenAsync(o, ct));
    }

    private static RedisStoreOptions Options(string uri, Action<RedisStoreOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        var options = RedisStoreOptions.FromUri(uri);
        configure?.Invoke(options);
        return options;
    }
}
