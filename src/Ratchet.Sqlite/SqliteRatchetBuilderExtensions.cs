using Ratchet.Engine;

namespace Ratchet.Sqlite;

/// <summary>Chooses the SQLite store for an engine.</summary>
public static class SqliteRatchetBuilderExtensions
{
    /// <summary>Opens the SQLite store at <paramref name="path"/> when the engine is built, and closes it with the engine.</summary>
    public static RatchetBuilder UseSqlite(this RatchetBuilder builder, string path, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(path, configure);

        return builder.UseStore(options, static async (o, ct) => await SqliteRatchetStore.OpenAsync(o, ct));
    }

    /// <summary>Uses the SQLite store at <paramref name="path"/> for the host's engine.</summary>
    public static RatchetServiceBuilder UseSqlite(this RatchetServiceBuilder builder, string path, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(path, configure);
        return builder.UseStore(options, static async (o, ct) => await SqliteRatchetStore.OpenAsync(o, ct));
    }

    private static SqliteStoreOptions Options(string path, Action<SqliteStoreOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var options = new SqliteStoreOptions { Path = path };
        configure?.Invoke(options);
        return options;
    }
}
