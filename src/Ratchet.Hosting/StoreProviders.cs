using Ratchet.Files;
using Ratchet.Postgres;
using Ratchet.Redis;
using Ratchet.Sqlite;
using Ratchet.Storage;

namespace Ratchet.Hosting;

/// <summary>
/// The stores an application can open by URI: <c>scheme → provider</c>, each provider shipped by its backend
/// (<see cref="SqliteStoreProvider"/>, <see cref="FilesStoreProvider"/>, <see cref="PostgresStoreProvider"/>,
/// <see cref="RedisStoreProvider"/>). Immutable: <see cref="With"/> returns a registry with one more.
/// </summary>
public sealed class StoreProviders
{
    /// <summary>The URI used when none is given and <see cref="EnvironmentVariable"/> is not set.</summary>
    public const string DefaultUri = SqliteStoreProvider.DefaultUri;

    /// <summary>The environment variable that names the store when a screen is given none.</summary>
    public const string EnvironmentVariable = "RATCHET_STORE";

    private readonly IReadOnlyList<IStoreProvider> _providers;
    private readonly Dictionary<string, IStoreProvider> _bySchemes;

    /// <summary>A registry of <paramref name="providers"/>, asked in order for URIs that name no scheme of theirs.</summary>
    /// <exception cref="ArgumentException">Two providers claim one scheme.</exception>
    public StoreProviders(IEnumerable<IStoreProvider> providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        _providers = [.. providers];
        _bySchemes = new Dictionary<string, IStoreProvider>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in _providers)
        {
            foreach (var scheme in provider.Schemes)
            {
                if (!_bySchemes.TryAdd(scheme, provider))
                {
                    throw new ArgumentException($"The store providers '{_bySchemes[scheme].Name}' and '{provider.Name}' both read '{scheme}:' URIs; register one of them.", nameof(providers));
                }
            }
        }
    }

    /// <summary>The four stores that ship with Ratchet: SQLite, files, PostgreSQL and Redis.</summary>
    public static StoreProviders Default { get; } = new(
        [new SqliteStoreProvider(), new FilesStoreProvider(), new PostgresStoreProvider(), new RedisStoreProvider()]);

    /// <summary>The providers, in the order they are asked.</summary>
    public IReadOnlyList<IStoreProvider> Providers => _providers;

    /// <summary>A registry with <paramref name="provider"/> added after these.</summary>
    public StoreProviders With(IStoreProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return new StoreProviders([.. _providers, provider]);
    }

    /// <summary>The store URI a screen uses: <paramref name="given"/> (e.g. <c>--store</c>), else <c>$RATCHET_STORE</c>, else <see cref="DefaultUri"/>.</summary>
    public static string Resolve(string? given)
    {
        if (given is { Length: > 0 })
        {
            return given;
        }

        return Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultUri;
    }

    /// <summary>The provider that reads <paramref name="uri"/>: the one registered for its scheme, else the first that accepts it.</summary>
    public IStoreProvider? Find(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && _bySchemes.TryGetValue(uri[..colon], out var byScheme) && byScheme.Accepts(uri))
        {
            return byScheme;
        }

        return _providers.FirstOrDefault(p => p.Accepts(uri));
    }

    /// <summary>Reads <paramref name="uri"/> into a store to open.</summary>
    /// <exception cref="InvalidStoreUriException">No provider reads it, or its provider finds it wrong; the message says what to write.</exception>
    public StoreTarget Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var provider = Find(uri) ?? throw new InvalidStoreUriException(uri, $"The store URI '{StoreUri.Redact(uri)}' is not supported; use {Forms()}.");
        return new StoreTarget(uri, provider, provider.Parse(uri));
    }

    /// <summary>Every provider's URI form, as "a, b, c or d".</summary>
    private string Forms()
    {
        var forms = _providers.Select(p => p.UriForm).ToList();
        return forms.Count <= 1 ? string.Concat(forms) : string.Join(", ", forms.Take(forms.Count - 1)) + " or " + forms[^1];
    }
}

/// <summary>A store URI read by its provider: what to open, and where the store's neighbours (run logs, workspaces) live.</summary>
/// <param name="Uri">The URI as given (it may hold a password: show <see cref="Description"/> instead).</param>
/// <param name="Provider">The provider that read it.</param>
/// <param name="Options">The store's options, as the provider read them.</param>
public sealed record StoreTarget(string Uri, IStoreProvider Provider, IStoreOptions Options)
{
    /// <summary>The URI without its password, for messages.</summary>
    public string Description => StoreUri.Redact(Uri);

    /// <summary>
    /// The folder of Ratchet's own files for this store (<c>runs/</c>, <c>workspaces/</c>): beside a SQLite file or a
    /// files store's folder, else <c>.ratchet</c> under the current directory.
    /// </summary>
    public string StateDirectory => Provider.LocalFolder(Options) ?? Path.GetFullPath(".ratchet");

    /// <inheritdoc cref="IStoreProvider.RequireExisting" />
    public void RequireExisting() => Provider.RequireExisting(Options);

    /// <summary>Opens the store.</summary>
    public Task<IRatchetStore> OpenAsync(StoreOpenSettings settings, CancellationToken cancellationToken = default) =>
        Provider.OpenAsync(Options, settings, cancellationToken);
}
