using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ratchet.Redis;

/// <summary>Settings of a <see cref="RedisRatchetStore"/>.</summary>
public sealed class RedisStoreOptions : Ratchet.Storage.IStoreOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "ratchet:";

    /// <summary>
    /// The server, as <c>host:port</c> or a StackExchange.Redis configuration string
    /// (<c>host:port,password=…,ssl=true</c>). Default <c>127.0.0.1:6379</c>.
    /// </summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>The server's password, if it needs one (overrides one in <see cref="Configuration"/>). Never shown in messages.</summary>
    public string? Password { get; set; }

    /// <summary>The Redis database number. Default 0.</summary>
    public int Database { get; set; }

    /// <summary>
    /// Prepended to every key and to the wake-up channel, so that several stores can share one database. Default
    /// <c>ratchet:</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>How long connecting may take before the store is reported unavailable. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one command or script may take before it is reported unavailable. Default 10 seconds.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether opening refuses a server whose persistence cannot keep Ratchet's promise that a committed step is never
    /// lost (AOF off, <c>appendfsync</c> not <c>always</c>, or an evicting <c>maxmemory-policy</c>). When false (the
    /// default) such a server is used with a warning, logged and shown in <see cref="RedisRatchetStore.PersistenceWarning"/>.
    /// See <c>docs/REDIS.md</c>.
    /// </summary>
    public bool RequireDurablePersistence { get; set; }

    /// <summary>The clock for lease expiry, due work, key-value, checkpoint and archive times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the store logs; null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Options from a store URI: <c>redis://[:password@]host[:port][/database][?prefix=…]</c> (also <c>rediss://</c>
    /// for TLS), or a plain <c>host:port</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The URI is not of that form; the message says what is wrong.</exception>
    public static RedisStoreOptions FromUri(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        var text = uri.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            if (text.Contains('/', StringComparison.Ordinal) || text.Contains('?', StringComparison.Ordinal) || text.Contains('@', StringComparison.Ordinal))
            {
                throw new ArgumentException($"The Redis address '{Redact(text)}' is neither host:port nor a redis:// URI; write redis://[:password@]host:port/db.", nameof(uri));
            }

            return new RedisStoreOptions { Configuration = text.Contains(':', StringComparison.Ordinal) ? text : text + ":6379" };
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("redis" or "rediss"))
        {
            throw new ArgumentException($"The Redis URI '{Redact(text)}' is not valid; write redis://[:password@]host:port/db[?prefix=name].", nameof(uri));
        }

        if (string.IsNullOrEmpty(parsed.Host))
        {
            throw new ArgumentException($"The Redis URI '{Redact(text)}' names no host; write redis://host:port/db.", nameof(uri));
        }

        var options = new RedisStoreOptions();
        var port = parsed.IsDefaultPort || parsed.Port < 0 ? 6379 : parsed.Port;
        var host = parsed.HostNameType == UriHostNameType.IPv6 ? parsed.Host : parsed.Host;
        options.Configuration = string.Create(CultureInfo.InvariantCulture, $"{host}:{port}") + (parsed.Scheme == "rediss" ? ",ssl=true" : "");
        if (parsed.UserInfo.Length > 0)
        {
            // redis://:password@host (Redis convention) or redis://user:password@host (the user is ignored before ACLs).
            var info = Uri.UnescapeDataString(parsed.UserInfo);
            var colon = info.IndexOf(':', StringComparison.Ordinal);
            options.Password = colon >= 0 ? info[(colon + 1)..] : info;
        }

        var path = parsed.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database))
            {
                throw new ArgumentException($"The Redis URI '{Redact(text)}' names database '{path}'; the database is a number, as in redis://host:6379/0.", nameof(uri));
            }

            options.Database = database;
        }

        foreach (var part in parsed.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : Uri.UnescapeDataString(part[(equals + 1)..]);
            switch (name)
            {
                case "prefix":
                    options.KeyPrefix = value;
                    break;
                default:
                    throw new ArgumentException($"The Redis URI '{Redact(text)}' has the unknown parameter '{name}'; the only one is prefix.", nameof(uri));
            }
        }

        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The Redis URI '{Redact(text)}' is not usable: " + string.Join(" ", problems), nameof(uri));
        }

        return options;
    }

    /// <summary>Every problem with these settings, as sentences; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            problems.Add("Configuration is empty: give the server as host:port, e.g. '127.0.0.1:6379'.");
        }

        if (Database is < 0 or > 15_999)
        {
            problems.Add($"Database is {Database}; Redis databases are numbered from 0.");
        }

        if (string.IsNullOrEmpty(KeyPrefix))
        {
            problems.Add("KeyPrefix is empty: give one (default 'ratchet:') so that the store's keys stand apart from others.");
        }
        else if (KeyPrefix.Any(c => char.IsControl(c) || c is '*' or '?' or '[' or ']' or '\\'))
        {
            problems.Add($"KeyPrefix '{KeyPrefix}' holds a control character or one of * ? [ ] \\; those would break key patterns.");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"ConnectTimeout is {ConnectTimeout}; it must be above 0 and at most 10 minutes.");
        }

        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"OperationTimeout is {OperationTimeout}; it must be above 0 and at most 10 minutes.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null; leave it at TimeProvider.System or give a clock.");
        }

        return problems;
    }

    /// <summary><c>redis://host:port/db</c>, with the prefix when it is not the default; never a password.</summary>
    internal static string Describe(string endpoint, int database, string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"redis://{endpoint}/{database}") +
        (prefix == DefaultKeyPrefix ? "" : "?prefix=" + Uri.EscapeDataString(prefix));

    /// <summary>The text with any password replaced, for messages.</summary>
    internal static string Redact(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (at > 0 && scheme >= 0 && at > scheme)
        {
            text = text[..(scheme + 3)] + "***" + text[at..];
        }

        var password = text.IndexOf("password=", StringComparison.OrdinalIgnoreCase);
        if (password >= 0)
        {
            var end = text.IndexOf(',', password);
            text = text[..(password + 9)] + "***" + (end < 0 ? "" : text[end..]);
        }

        return text;
    }
}
