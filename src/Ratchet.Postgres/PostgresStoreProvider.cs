using Ratchet.Storage;

namespace Ratchet.Postgres;

/// <summary>
/// The PostgreSQL store as a URI names it: <c>postgres://user@host:port/database?schema=name</c> (or
/// <c>postgresql://</c>), or an Npgsql connection string such as <c>Host=...;Database=...</c>.
/// </summary>
public sealed class PostgresStoreProvider() : StoreProvider<PostgresStoreOptions>(
    "postgres", "postgres://USER@HOST:PORT/DB (or an Npgsql connection string such as Host=...;Database=...)",
    StringComparison.OrdinalIgnoreCase, "postgres://", "postgresql://")
{
    /// <summary>Its URIs, and Npgsql connection strings (<c>Host=...;...</c>) rather than a URI of some scheme.</summary>
    public override bool Accepts(string uri) =>
        base.Accepts(uri) ||
        (uri.Contains('=', StringComparison.Ordinal) && uri.Contains("host", StringComparison.OrdinalIgnoreCase) && !uri.Contains("://", StringComparison.Ordinal));

    /// <inheritdoc />
    public override PostgresStoreOptions Parse(string uri) => ParseWith(uri, PostgresStoreOptions.FromUri);

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(PostgresStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken) =>
        await PostgresRatchetStore.OpenAsync(options, cancellationToken);
}
