using Ratchet.Engine;

namespace Ratchet.Postgres;

/// <summary>Chooses the PostgreSQL store for an engine.</summary>
public static class PostgresRatchetBuilderExtensions
{
    /// <summary>
    /// Opens the PostgreSQL store at <paramref name="connection"/> (a <c>postgres://</c> URI or an Npgsql connection
    /// string, see <see cref="PostgresStoreOptions.FromUri"/>) when the engine is built, and closes it with the engine.
    /// </summary>
    public static RatchetBuilder UsePostgres(this RatchetBuilder builder, string connection, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(connection, configure);

        return builder.UseStore(options, static async (o, ct) => await PostgresRatchetStore.OpenAsync(o, ct));
    }

    /// <summary>Uses the PostgreSQL store at <paramref name="connection"/> for the host's engine.</summary>
    public static RatchetServiceBuilder UsePostgres(this RatchetServiceBuilder builder, string connection, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(connection, configure);
        return builder.UseStore(options, static async (o, ct) => await PostgresRatchetStore.OpenAsync(o, ct));
    }

    private static PostgresStoreOptions Options(string connection, Action<PostgresStoreOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connection);
        var options = PostgresStoreOptions.FromUri(connection);
        configure?.Invoke(options);
        return options;
    }
}
