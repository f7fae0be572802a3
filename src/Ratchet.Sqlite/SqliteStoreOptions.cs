using Microsoft.Extensions.Logging;

namespace Ratchet.Sqlite;

/// <summary>How hard SQLite pushes a commit to disk (its <c>synchronous</c> pragma, in WAL mode).</summary>
public enum SqliteSynchronous
{
    /// <summary>No fsync: a power loss can lose recent commits and, rarely, corrupt the file. For throwaway data only.</summary>
    Off = 0,

    /// <summary>fsync at WAL checkpoints only: a power loss can lose the last commits, never corrupt the file.</summary>
    Normal = 1,

    /// <summary>fsync the WAL on every commit: a commit that returned survives a power loss. The default.</summary>
    Full = 2,

    /// <summary>As Full, and also fsync the directory when the WAL is reset.</summary>
    Extra = 3,
}

/// <summary>Settings of a <see cref="SqliteRatchetStore"/>.</summary>
public sealed class SqliteStoreOptions : Ratchet.Storage.IStoreOptions
{
    /// <summary>The database file; created, with its folder, on first use. Default <c>.ratchet/ratchet.db</c>.</summary>
    public string Path { get; set; } = ".ratchet/ratchet.db";

    /// <summary>Durability of each commit. Default <see cref="SqliteSynchronous.Full"/>.</summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Full;

    /// <summary>How long to wait for another process's write lock before giving up. Default 10 seconds.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most operations the writer commits in one transaction (group commit). Larger batches mean fewer fsyncs
    /// under load and longer waits for the last caller of a batch. Default 512.
    /// </summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>The clock for lease expiry, key-value and archive times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the store logs; null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Every problem with these settings, as sentences; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Path))
        {
            problems.Add("Path is empty: give the SQLite database file, e.g. '.ratchet/ratchet.db'.");
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"BusyTimeout is {BusyTimeout}; it must be between 0 and 1 hour.");
        }

        if (MaxBatchSize is < 1 or > 100_000)
        {
            problems.Add($"MaxBatchSize is {MaxBatchSize}; it must be between 1 and 100000.");
        }

        if (!Enum.IsDefined(Synchronous))
        {
            problems.Add($"Synchronous is {(int)Synchronous}; use Off, Normal, Full or Extra.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null; leave it at TimeProvider.System or give a clock.");
        }

        return problems;
    }
}
