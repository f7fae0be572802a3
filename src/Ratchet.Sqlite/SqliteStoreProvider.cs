using Ratchet.Storage;

namespace Ratchet.Sqlite;

/// <summary>The SQLite store as a URI names it: <c>sqlite:PATH</c>, the file created on first use.</summary>
public sealed class SqliteStoreProvider : StoreProvider<SqliteStoreOptions>
{
    private const string Prefix = "sqlite:";

    /// <summary>The URI of the default store, beside the current directory.</summary>
    public const string DefaultUri = "sqlite:.ratchet/ratchet.db";

    /// <inheritdoc />
    public override string Name => "sqlite";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["sqlite"];

    /// <inheritdoc />
    public override string UriForm => $"sqlite:PATH (e.g. {DefaultUri})";

    /// <inheritdoc />
    public override bool Accepts(string uri) => HasScheme(uri, StringComparison.Ordinal, Prefix);

    /// <inheritdoc />
    public override SqliteStoreOptions Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var path = uri[Prefix.Length..];
        return path.Length == 0
            ? throw new InvalidStoreUriException(uri, $"The store URI '{Prefix}' names no file; write e.g. {DefaultUri}.")
            : new SqliteStoreOptions { Path = path };
    }

    /// <inheritdoc />
    public override string? LocalFolder(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Path.GetDirectoryName(Path.GetFullPath(options.Path)) ?? ".ratchet";
    }

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
        ArgumentNullException.ThrowIfNull(options);
        options.BusyTimeout = lockTimeout ?? options.BusyTimeout;
        return await SqliteRatchetStore.OpenAsync(options, cancellationToken);
    }
}
