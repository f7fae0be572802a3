using Ratchet.Engine;

namespace Ratchet.Files;

/// <summary>Chooses the JSON-file store for an engine.</summary>
public static class FilesRatchetBuilderExtensions
{
    /// <summary>Opens the file store under <paramref name="root"/> when the engine is built, and closes it with the engine.</summary>
    public static RatchetBuilder UseFiles(this RatchetBuilder builder, string root, Action<FilesStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(root, configure);

        return builder.UseStore(options, static async (o, ct) => await FilesRatchetStore.OpenAsync(o, ct));
    }

    /// <summary>Uses the file store under <paramref name="root"/> for the host's engine.</summary>
    public static RatchetServiceBuilder UseFiles(this RatchetServiceBuilder builder, string root, Action<FilesStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options(root, configure);
        return builder.UseStore(options, static async (o, ct) => await FilesRatchetStore.OpenAsync(o, ct));
    }

    private static FilesStoreOptions Options(string root, Action<FilesStoreOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var options = new FilesStoreOptions { Root = root };
        configure?.Invoke(options);
        return options;
    }
}
