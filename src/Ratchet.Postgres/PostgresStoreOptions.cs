using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ratchet.Postgres;

/// <summary>Settings of a <see cref="PostgresRatchetStore"/>.</summary>
public sealed partial class PostgresStoreOptions : Ratchet.Storage.IStoreOptions
{
    /// <summary>The schema the store's tables live in; created on first use. Default <c>ratchet</c>.</summary>
    public const string DefaultSchema = "ratchet";

    /// <summary>
    /// An Npgsql connection string, such as <c>Host=127.0.0.1;Port=5432;Username=ratchet;Database=ratchet</c>.
    /// Pooling settings in it apply; <see cref="FromUri"/> also accepts <c>postgres://</c> URIs.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The schema holding the store, a plain identifier (letters, digits, underscores). Default <c>ratchet</c>.</summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>How long to wait for a connection to open before reporting the server unavailable. Default 15 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one statement may run before it is cancelled and reported as a transient failure. Default 30 seconds.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most pooled connections; concurrent commits each use their own, so that PostgreSQL's group commit can merge
    /// their WAL flushes. Default 100 (the driver's default); lower it when many processes share a small server.
    /// </summary>
    public int MaxPoolSize { get; set; } = 100;

    /// <summary>
    /// The most node commits (one workflow's update with its steps and events, the engine's commit per node) that are
    /// merged into one statement and one transaction while earlier ones are being written. Each commit still succeeds
    /// or is refused on its own. Default 128; 1 writes every commit on its own.
    /// </summary>
    /// <remarks>
    /// Merging saves the server a statement execution, a transaction and a WAL flush per commit, which is most of what
    /// a node commit costs it. Commits are only merged when they wait for a free writer, so a lone workflow's commit
    /// is written at once, as before.
    /// </remarks>
    public int MaxCommitBatch { get; set; } = 128;

    /// <summary>The longest wait between attempts to re-open the LISTEN connection after it dropped. Default 30 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock for lease expiry, key-value and archive times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the store logs; null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Options from a store URI, <c>postgres://user:password@host:port/database?schema=name</c> (also
    /// <c>postgresql://</c>; other query parameters are passed to Npgsql as connection-string keywords), or from a
    /// plain Npgsql connection string (which may name the schema with <c>Schema=name</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The text is neither; the message says what is wrong.</exception>
    public static PostgresStoreOptions FromUri(string uriOrConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uriOrConnectionString);
        var text = uriOrConnectionString.Trim();
        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return FromPostgresUri(text);
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"'{Redact(text)}' is not a PostgreSQL store: use postgres://user@host:port/database, postgresql://…, or an Npgsql connection string such as 'Host=localhost;Database=ratchet'.",
                nameof(uriOrConnectionString));
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder();
            var schema = DefaultSchema;
            foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = part.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new ArgumentException($"'{part}' has no '=': a connection string is Key=Value pairs separated by ';'.");
                }

                var key = part[..equals].Trim();
                var value = part[(equals + 1)..].Trim();
                if (key.Equals("Schema", StringComparison.OrdinalIgnoreCase))
                {
                    schema = value;
                }
                else
                {
                    builder[key] = value;
                }
            }

            return new PostgresStoreOptions { ConnectionString = builder.ConnectionString, Schema = schema };
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException(
                $"'{Redact(text)}' is not a usable Npgsql connection string: {ex.Message} Use e.g. 'Host=localhost;Port=5432;Username=ratchet;Database=ratchet' or postgres://user@host:port/database.",
                nameof(uriOrConnectionString), ex);
        }
    }

    /// <summary>Every problem with these settings, as sentences; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            problems.Add("ConnectionString is empty: give an Npgsql connection string, e.g. 'Host=localhost;Username=ratchet;Database=ratchet'.");
        }
        else
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException ex)
            {
                problems.Add($"ConnectionString is not a valid Npgsql connection string: {ex.Message}");
            }
        }

        if (string.IsNullOrEmpty(Schema) || !SchemaName().IsMatch(Schema))
        {
            problems.Add($"Schema '{Schema}' is not a plain identifier: use 1 to 63 letters, digits and underscores, not starting with a digit.");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"ConnectTimeout is {ConnectTimeout}; it must be more than 0 and at most 10 minutes.");
        }

        if (CommandTimeout <= TimeSpan.Zero || CommandTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"CommandTimeout is {CommandTimeout}; it must be more than 0 and at most 1 hour.");
        }

        if (MaxPoolSize is < 2 or > 10_000)
        {
            problems.Add($"MaxPoolSize is {MaxPoolSize}; it must be between 2 and 10000.");
        }

        if (MaxCommitBatch is < 1 or > 10_000)
        {
            problems.Add($"MaxCommitBatch is {MaxCommitBatch}; it must be between 1 (no merging) and 10000.");
        }

        if (MaxReconnectDelay <= TimeSpan.Zero)
        {
            problems.Add($"MaxReconnectDelay is {MaxReconnectDelay}; it must be more than 0.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null; leave it at TimeProvider.System or give a clock.");
        }

        return problems;
    }

    /// <summary><c>postgres://user@host:port/database?schema=x</c>, never with the password.</summary>
    internal string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var user = string.IsNullOrEmpty(builder.Username) ? "" : Uri.EscapeDataString(builder.Username) + "@";
        var host = builder.Host ?? "localhost";
        if (host.Contains(':', StringComparison.Ordinal) && !host.Contains(',', StringComparison.Ordinal))
        {
            host = $"[{host}]";
        }

        var database = builder.Database is { Length: > 0 } db ? Uri.EscapeDataString(db) : "";
        var schema = Schema == DefaultSchema ? "" : $"?schema={Schema}";
        return string.Create(CultureInfo.InvariantCulture, $"postgres://{user}{host}:{builder.Port}/{database}{schema}");
    }

    private static PostgresStoreOptions FromPostgresUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException(
                $"'{Redact(text)}' is not a valid PostgreSQL URI: use postgres://user:password@host:port/database?schema=name.",
                nameof(text));
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo is { Length: > 0 } userInfo)
        {
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        var schema = DefaultSchema;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (key.Equals("schema", StringComparison.OrdinalIgnoreCase))
            {
                schema = value;
                continue;
            }

            try
            {
                builder[key.Replace('_', ' ')] = value;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException(
                    $"The query parameter '{key}' of '{Redact(text)}' is not an Npgsql connection setting ({ex.Message}). Use schema=name or Npgsql keywords such as sslmode=require.",
                    nameof(text), ex);
            }
        }

        return new PostgresStoreOptions { ConnectionString = builder.ConnectionString, Schema = schema };
    }

    /// <summary>The text with any password replaced, for messages.</summary>
    private static string Redact(string text) => Password().Replace(text, "$1***");

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();

    [GeneratedRegex(@"((?:://[^:/@]*:)|(?:(?:^|;)\s*Password\s*=\s*))[^@;]*", RegexOptions.IgnoreCase)]
    private static partial Regex Password();
}
