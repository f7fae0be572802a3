using Ratchet.Storage;

namespace Ratchet.Sqlite;

/// <summary>The SQLite store as a URI names it: <c>sqlite:PATH</c>, the file created on first use.</summary>
public sealed class SqliteStoreProvider() : StoreProvider<SqliteStoreOptions>("sqlite", $"sqlite:PATH (e.g. {DefaultUri})", StringComparison.Ordinal, Prefix)
{
    /// <summary>The URI of the default store, under the current directory.</summary>
    public const string DefaultUri = "sqlite:.ratchet/ratchet.db";

    private const string Prefix = "sqlite:";

    /// <inheritdoc />
    public override SqliteStoreOptions Parse(string uri) => new() { Path = LocalPath(uri, Prefix, "file", DefaultUri) };

    /// <inheritdoc />
    public override string? LocalFolder(SqliteStoreOptions options) => FolderOf(options?.Path ?? throw new ArgumentNullException(nameof(options)));

    /// <inheritdoc />
    public override void RequireExisting(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(options.Path))
        {
            throw new InvalidStoreUriException(Prefix + options.Path, $"There is no SQLite store at {options.Path}; check the path (nothing was created).");
        }
    }

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(SqliteStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken)
    {
        options.BusyTimeout = lockTimeout ?? options.BusyTimeout;
        return await SqliteRatchetStore.OpenAsync(options, cancellationToken);
    }
}
