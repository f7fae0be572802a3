using Ratchet.Engine;

namespace Ratchet.Sqlite;

/// <summary>Chooses the SQLite store for an engine, on the plain builder or in a host.</summary>
public static class SqliteRatchetBuilderExtensions
{
    /// <summary>Opens the SQLite store at <paramref name="path"/> when the engine is built, and closes it with the engine.</summary>
    public static TBuilder UseSqlite<TBuilder>(this TBuilder builder, string path, Action<SqliteStoreOptions>? configure = null)
        where TBuilder : class, IRatchetBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return builder.UseStore(new SqliteStoreOptions { Path = path }, static async (o, ct) => await SqliteRatchetStore.OpenAsync(o, ct), configure);
    }
}
