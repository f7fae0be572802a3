using Microsoft.Extensions.Logging;
using Ratchet.Files;
using Ratchet.Postgres;
using Ratchet.Redis;
using Ratchet.Sqlite;
using Ratchet.Storage;

namespace Ratchet.Cli;

/// <summary>
/// Where the state lives: <c>--store URI</c>, else <c>RATCHET_STORE</c>, else <c>sqlite:.ratchet/ratchet.db</c>.
/// Run logs and workspaces live beside a SQLite file (or in <c>.ratchet/</c> for server stores).
/// </summary>
internal sealed record StoreLocation(string Uri)
{
    public const string DefaultUri = "sqlite:.ratchet/ratchet.db";
    public const string EnvironmentVariable = "RATCHET_STORE";

    public static StoreLocation Resolve(string? option)
    {
        if (option is { Length: > 0 })
        {
            return new StoreLocation(option);
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return new StoreLocation(fromEnvironment is { Length: > 0 } ? fromEnvironment : DefaultUri);
    }

    /// <summary>The folder that holds run logs and workspaces: beside the SQLite file or the files store's root.</summary>
    public string StateDirectory => Uri switch
    {
        _ when Uri.StartsWith("sqlite:", StringComparison.Ordinal) => Path.GetDirectoryName(Path.GetFullPath(SqlitePath)) ?? ".ratchet",
        _ when Uri.StartsWith("files:", StringComparison.Ordinal) => Path.GetDirectoryName(Path.GetFullPath(FilesRoot)) ?? ".ratchet",
        _ => Path.GetFullPath(".ratchet"),
    };

    public string RunsDirectory => Path.Combine(StateDirectory, "runs");

    public string WorkspacesDirectory => Path.Combine(StateDirectory, "workspaces");

    private string SqlitePath => Uri["sqlite:".Length..];

    private string FilesRoot => Uri["files:".Length..].TrimEnd('/');

    /// <summary>
    /// Refuses a store that does not exist yet, for commands that only read one (<c>migrate --from</c>): opening would
    /// create an empty SQLite file or files folder and copy nothing.
    /// </summary>
    public void RequireExisting()
    {
        if (Uri.StartsWith("sqlite:", StringComparison.Ordinal) && !File.Exists(SqlitePath))
        {
            throw new UsageException($"There is no SQLite store at {SqlitePath}; check the path (nothing was created).");
        }

        if (Uri.StartsWith("files:", StringComparison.Ordinal) && !Directory.Exists(FilesRoot))
        {
            throw new UsageException($"There is no files store at {FilesRoot}; check the folder (nothing was created).");
        }
    }

    /// <summary>Opens the store, logging to <paramref name="loggerFactory"/>.</summary>
    /// <exception cref="UsageException">The URI names no supported store.</exception>
    public async Task<IRatchetStore> OpenAsync(TimeSpan busyTimeout, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (Uri.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            if (SqlitePath.Length == 0)
            {
                throw new UsageException("The store URI 'sqlite:' names no file; write e.g. sqlite:.ratchet/ratchet.db.");
            }

            return await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = SqlitePath, BusyTimeout = busyTimeout, LoggerFactory = loggerFactory }, cancellationToken);
        }

        if (Uri.StartsWith("files:", StringComparison.Ordinal))
        {
            if (FilesRoot.Length == 0)
            {
                throw new UsageException("The store URI 'files:' names no folder; write e.g. files:.ratchet/state.");
            }

            return await FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = FilesRoot, LockTimeout = busyTimeout, LoggerFactory = loggerFactory }, cancellationToken);
        }

        if (IsPostgres)
        {
            var postgres = ParseOptions(Uri, PostgresStoreOptions.FromUri);
            postgres.LoggerFactory = loggerFactory;
            return await PostgresRatchetStore.OpenAsync(postgres, cancellationToken);
        }

        if (Uri.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || Uri.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            var redis = ParseOptions(Uri, RedisStoreOptions.FromUri);
            redis.LoggerFactory = loggerFactory;
            return await RedisRatchetStore.OpenAsync(redis, cancellationToken);
        }

        throw new UsageException(
            $"The store URI '{Redact(Uri)}' is not supported; use sqlite:PATH (e.g. {DefaultUri}), files:FOLDER (e.g. files:.ratchet/state), " +
            "postgres://USER@HOST:PORT/DB (or an Npgsql connection string such as Host=...;Database=...) or redis://HOST:PORT/DB.");
    }

    /// <summary>A postgres:// or postgresql:// URI, or an Npgsql connection string (Host=...;...).</summary>
    private bool IsPostgres =>
        Uri.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
        Uri.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) ||
        (Uri.Contains('=', StringComparison.Ordinal) && Uri.Contains("host", StringComparison.OrdinalIgnoreCase) && !Uri.Contains("://", StringComparison.Ordinal));

    /// <summary>Parses a server store's URI; a malformed one is bad input (exit 2), named without its password.</summary>
    private static T ParseOptions<T>(string uri, Func<string, T> parse)
    {
        try
        {
            return parse(uri);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"The store URI '{Redact(uri)}' is not valid: {ex.Message}");
        }
    }

    /// <summary>The URI without a password, for messages.</summary>
    public static string Redact(string uri)
    {
        if (!uri.Contains("://", StringComparison.Ordinal))
        {
            // An Npgsql connection string: Password=...; (or Pwd=) up to the next ';'.
            return System.Text.RegularExpressions.Regex.Replace(uri, "(?i)(password|pwd)\\s*=[^;]*", "$1=***");
        }

        var at = uri.IndexOf('@', StringComparison.Ordinal);
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme)
        {
            return uri;
        }

        var credentials = uri[(scheme + 3)..at];
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? uri : uri[..(scheme + 3)] + credentials[..colon] + ":***" + uri[at..];
    }
}

/// <summary>The command line asks for something that cannot be done as asked; exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
