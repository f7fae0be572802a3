using Ratchet.Storage;

namespace Ratchet.Postgres;

/// <summary>
/// The PostgreSQL store as a URI names it: <c>postgres://user@host:port/database?schema=name</c> (or
/// <c>postgresql://</c>), or an Npgsql connection string such as <c>Host=...;Database=...</c>.
/// </summary>
public sealed class PostgresStoreProvider : StoreProvider<PostgresStoreOptions>
{
    /// <inheritdoc />
    public override string Name => "postgres";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["postgres", "postgresql"];

    /// <inheritdoc />
    public override string UriForm => "postgres://USER@HOST:PORT/DB (or an Npgsql connection string such as Host=...;Database=...)";

    /// <inheritdoc />
    public override bool Accepts(string uri) =>
        HasScheme(uri, StringComparison.OrdinalIgnoreCase, "postgres://", "postgresql://") || IsConnectionString(uri);

    /// <inheritdoc />
    public override PostgresStoreOptions Parse(string uri) => ParseWith(uri, PostgresStoreOptions.FromUri);

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(PostgresStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken) =>
        await PostgresRatchetStore.OpenAsync(options, cancellationToken);

    /// <summary>An Npgsql connection string (<c>Host=...;...</c>) rather than a URI of some scheme.</summary>
    private static bool IsConnectionString(string uri) =>
        uri.Contains('=', StringComparison.Ordinal) && uri.Contains("host", StringComparison.OrdinalIgnoreCase) && !uri.Contains("://", StringComparison.Ordinal);
}
