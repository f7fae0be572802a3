using Microsoft.Extensions.Logging;

namespace Ratchet.Storage;

/// <summary>
/// One kind of store as a URI names it (<c>sqlite:PATH</c>, <c>postgres://…</c>): how to read such a URI into the
/// store's options, what is wrong with one that does not read, and how to open the store. Each backend ships its own
/// (for example <c>SqliteStoreProvider</c> in Ratchet.Sqlite); an application picks one by URI through a registry of
/// them (Ratchet.Hosting's <c>StoreProviders</c>), so that no screen holds a list of backends.
/// </summary>
public interface IStoreProvider
{
    /// <summary>The backend's name, e.g. <c>sqlite</c>.</summary>
    string Name { get; }

    /// <summary>The URI schemes this provider reads, without the colon, e.g. <c>postgres</c> and <c>postgresql</c>.</summary>
    IReadOnlyList<string> Schemes { get; }

    /// <summary>How its URIs are written, for a message that lists the supported stores, e.g. <c>sqlite:PATH (e.g. sqlite:.ratchet/ratchet.db)</c>.</summary>
    string UriForm { get; }

    /// <summary>Whether <paramref name="uri"/> is for this provider: one of its schemes, or another form it reads (an Npgsql connection string).</summary>
    bool Accepts(string uri);

    /// <summary>Reads <paramref name="uri"/> into the store's options.</summary>
    /// <exception cref="InvalidStoreUriException">The URI does not name a usable store; the message says what is wrong, without its password.</exception>
    IStoreOptions Parse(string uri);

    /// <summary>
    /// The folder the store keeps its own files in (a SQLite file's folder, a files store's root), beside which run logs
    /// and workspaces live; null for a store on a server.
    /// </summary>
    string? LocalFolder(IStoreOptions options);

    /// <summary>
    /// Refuses a store that does not exist yet, for a caller that only reads one (opening would create it empty).
    /// Server stores always exist as far as this can tell.
    /// </summary>
    /// <exception cref="InvalidStoreUriException">There is no such store; nothing was created.</exception>
    void RequireExisting(IStoreOptions options);

    /// <summary>Opens the store described by <paramref name="options"/> (from <see cref="Parse"/>).</summary>
    Task<IRatchetStore> OpenAsync(IStoreOptions options, StoreOpenSettings settings, CancellationToken cancellationToken = default);
}

/// <summary>What an application sets on every store it opens, whatever its kind.</summary>
public sealed record StoreOpenSettings
{
    /// <summary>How long to wait for a lock another process holds (SQLite's busy timeout, the files store's lock file); null for the store's default.</summary>
    public TimeSpan? LockTimeout { get; init; }

    /// <summary>Where the store logs; null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The store's clock; null for <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; init; }
}

/// <summary>The base of a backend's provider: its URI prefixes, the casts to its options type, and the settings every store takes.</summary>
/// <typeparam name="TOptions">The backend's options.</typeparam>
public abstract class StoreProvider<TOptions> : IStoreProvider
    where TOptions : class, IStoreOptions
{
    private readonly string[] _prefixes;
    private readonly StringComparison _comparison;

    /// <summary>A provider of the URIs that start with one of <paramref name="prefixes"/> (e.g. <c>sqlite:</c>, <c>redis://</c>).</summary>
    /// <param name="name">The backend's name.</param>
    /// <param name="uriForm">How its URIs are written, for messages.</param>
    /// <param name="comparison">How the prefixes compare (URI schemes are case-insensitive; Ratchet's own, <c>sqlite:</c> and <c>files:</c>, are not).</param>
    /// <param name="prefixes">The prefixes, each a scheme and what follows it.</param>
    protected StoreProvider(string name, string uriForm, StringComparison comparison, params string[] prefixes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(prefixes);
        Name = name;
        UriForm = uriForm;
        _comparison = comparison;
        _prefixes = prefixes;
        Schemes = [.. prefixes.Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)])];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; }

    /// <inheritdoc />
    public string UriForm { get; }

    /// <inheritdoc />
    public virtual bool Accepts(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return _prefixes.Any(prefix => uri.StartsWith(prefix, _comparison));
    }

    /// <inheritdoc cref="IStoreProvider.Parse" />
    public abstract TOptions Parse(string uri);

    /// <inheritdoc />
    public virtual string? LocalFolder(TOptions options) => null;

    /// <inheritdoc />
    public virtual void RequireExisting(TOptions options)
    {
    }

    /// <summary>Opens the store; <paramref name="options"/> already carry the settings' clock and loggers.</summary>
    protected abstract Task<IRatchetStore> OpenAsync(TOptions options, TimeSpan? lockTimeout, CancellationToken cancellationToken);

    IStoreOptions IStoreProvider.Parse(string uri) => Parse(uri);

    string? IStoreProvider.LocalFolder(IStoreOptions options) => LocalFolder(Cast(options));

    void IStoreProvider.RequireExisting(IStoreOptions options) => RequireExisting(Cast(options));

    /// <inheritdoc />
    public Task<IRatchetStore> OpenAsync(IStoreOptions options, StoreOpenSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var typed = Cast(options);
        if (settings.TimeProvider is { } clock)
        {
            typed.TimeProvider = clock;
        }

        typed.LoggerFactory = settings.LoggerFactory ?? typed.LoggerFactory;
        return OpenAsync(typed, settings.LockTimeout, cancellationToken);
    }

    /// <summary>
    /// What follows <paramref name="prefix"/> in the URI of a store kept in local files: its file or folder, refused
    /// when it names none.
    /// </summary>
    /// <param name="uri">The URI.</param>
    /// <param name="prefix">Its prefix, e.g. <c>sqlite:</c>.</param>
    /// <param name="what">What the path names, for the message: <c>file</c>, <c>folder</c>.</param>
    /// <param name="example">A URI that works, for the message.</param>
    protected static string LocalPath(string uri, string prefix, string what, string example)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(prefix);
        var path = uri[prefix.Length..];
        return path.Length > 0 ? path : throw new InvalidStoreUriException(uri, $"The store URI '{prefix}' names no {what}; write e.g. {example}.");
    }

    /// <summary>The folder that holds <paramref name="path"/>, made absolute.</summary>
    protected static string FolderOf(string path) => Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".ratchet";

    /// <summary>
    /// Reads a server store's URI with the backend's own parser; what it refuses (an <see cref="ArgumentException"/>)
    /// becomes the URI's problem, named without its password.
    /// </summary>
    protected static TOptions ParseWith(string uri, Func<string, TOptions> parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        try
        {
            return parse(uri);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidStoreUriException(uri, $"The store URI '{StoreUri.Redact(uri)}' is not valid: {ex.Message}");
        }
    }

    private TOptions Cast(IStoreOptions options) => options as TOptions ?? throw new ArgumentException(
        $"The {Name} store provider takes {typeof(TOptions).Name}, not {options?.GetType().Name ?? "null"}; pass the options its Parse returned.", nameof(options));
}

/// <summary>A store URI that names no supported store, or that cannot be read; nothing was opened or created.</summary>
public sealed class InvalidStoreUriException(string uri, string message) : RatchetException(message)
{
    /// <summary>The URI, without its password.</summary>
    public string Uri { get; } = StoreUri.Redact(uri);

    /// <inheritdoc />
    public override string ErrorCode => "invalid-store-uri";
}
