using Ratchet.Storage;

namespace Ratchet.Redis;

/// <summary>The Redis store as a URI names it: <c>redis://[:password@]host[:port][/db][?prefix=name]</c> (or <c>rediss://</c> for TLS).</summary>
public sealed class RedisStoreProvider : StoreProvider<RedisStoreOptions>
{
    /// <inheritdoc />
    public override string Name => "redis";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["redis", "rediss"];

    /// <inheritdoc />
    public override string UriForm => "redis://HOST:PORT/DB";

    /// <inheritdoc />
    public override bool Accepts(string uri) => HasScheme(uri, StringComparison.OrdinalIgnoreCase, "redis://", "rediss://");

    /// <inheritdoc />
    public override RedisStoreOptions Parse(string uri) => ParseWith(uri, RedisStoreOptions.FromUri);

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(RedisStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken) =>
        await RedisRatchetStore.OpenAsync(options, cancellationToken);
}
