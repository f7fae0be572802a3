using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Files.Tests;

/// <summary>Each conformance test's file store: a new root in a new temporary directory, deleted afterwards.</summary>
public sealed class FilesStoreFactory : DirectoryStoreFactory
{
    /// <inheritdoc />
    public override string Name => "files";

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenStoreAsync(string directory, TimeProvider clock, CancellationToken cancellationToken) =>
        await FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = directory, TimeProvider = clock }, cancellationToken);
}
