using Ratchet.Storage;

namespace Ratchet.Files;

/// <summary>The JSON-file store as a URI names it: <c>files:FOLDER</c>, the folder created on first use.</summary>
public sealed class FilesStoreProvider() : StoreProvider<FilesStoreOptions>("files", "files:FOLDER (e.g. files:.ratchet/state)", StringComparison.Ordinal, Prefix)
{
    private const string Prefix = "files:";

    /// <inheritdoc />
    public override FilesStoreOptions Parse(string uri) =>
        new() { Root = LocalPath(uri?.TrimEnd('/') ?? throw new ArgumentNullException(nameof(uri)), Prefix, "folder", "files:.ratchet/state") };

    /// <inheritdoc />
    public override string? LocalFolder(FilesStoreOptions options) => FolderOf(options?.Root ?? throw new ArgumentNullException(nameof(options)));

    /// <inheritdoc />
    public override void RequireExisting(FilesStoreOptions options)
    {
        if (!Directory.Exists(options?.Root ?? throw new ArgumentNullException(nameof(options))))
        {
            throw new InvalidStoreUriException(Prefix + options.Root, $"There is no files store at {options.Root}; check the folder (nothing was created).");
        }
    }

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenAsync(FilesStoreOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken)
    {
        options.LockTimeout = lockTimeout ?? options.LockTimeout;
        return await FilesRatchetStore.OpenAsync(options, cancellationToken);
    }
}
