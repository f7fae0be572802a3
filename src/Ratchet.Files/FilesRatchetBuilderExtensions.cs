using Ratchet.Engine;

namespace Ratchet.Files;

/// <summary>Chooses the JSON-file store for an engine, on the plain builder or in a host.</summary>
public static class FilesRatchetBuilderExtensions
{
    /// <summary>Opens the file store under <paramref name="root"/> when the engine is built, and closes it with the engine.</summary>
    public static TBuilder UseFiles<TBuilder>(this TBuilder builder, string root, Action<FilesStoreOptions>? configure = null)
        where TBuilder : class, IRatchetBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        return builder.UseStore(new FilesStoreOptions { Root = root }, static async (o, ct) => await FilesRatchetStore.OpenAsync(o, ct), configure);
    }
}
