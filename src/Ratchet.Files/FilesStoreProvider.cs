using Ratchet.Storage;

namespace Ratchet.Files;

/// <summary>The JSON-file store as a URI names it: <c>files:FOLDER</c>, the folder created on first use.</summary>
public sealed class FilesStoreProvider : StoreProvider<FilesStoreOptions>
{
    private const string Prefix = "files:";

    /// <inheritdoc />
    public override string Name => "files";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["files"];

    /// <inheritdoc />
    public override string UriForm => "files:FOLDER (e.g. files:.ratchet/state)";

    /// <inheritdoc />
    public override bool Accepts(string uri) => HasScheme(uri, StringComparison.Ordinal, Prefix);

    /// <inheritdoc />
    public override FilesStoreOptions Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var root = uri[Prefix.Length..].TrimEnd('/');
        return root.Length == 0
            ? throw new InvalidStoreUriException(uri, $"The store URI '{Prefix}' names no folder; write e.g. files:.ratchet/state.")
            : new FilesStoreOptions { Root = root };
    }

    /// <inheritdoc />
    public override string? LocalFolder(FilesStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Path.GetDirectoryName(Path.GetFullPath(options.Root)) ?? ".ratchet";
    }

    /// <inheritdoc />
    public override void RequireExisting(FilesStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(options.Root))
        {
            throw new InvalidStoreUriException(Prefix + options.Root, $"There is no files store at {options.Root}; check the folder (nothing was created).");
        }
    }

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(FilesStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LockTimeout = lockTimeout ?? options.LockTimeout;
        return await FilesRatchetStore.OpenAsync(options, cancellationToken);
    }
}
