using Ratchet.Engine;

namespace Ratchet.Postgres;

/// <summary>Chooses the PostgreSQL store for an engine, on the plain builder or in a host.</summary>
public static class PostgresRatchetBuilderExtensions
{
    /// <summary>
    /// Opens the PostgreSQL store at <paramref name="connection"/> (a <c>postgres://</c> URI or an Npgsql connection
    /// string, see <see cref="PostgresStoreOptions.FromUri"/>) when the engine is built, and closes it with the engine.
    /// </summary>
    public static TBuilder UsePostgres<TBuilder>(this TBuilder builder, string connection, Action<PostgresStoreOptions>? configure = null)
        where TBuilder : class, IRatchetBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connection);
        return builder.UseStore(PostgresStoreOptions.FromUri(connection), static async (o, ct) => await PostgresRatchetStore.OpenAsync(o, ct), configure);
    }
}
