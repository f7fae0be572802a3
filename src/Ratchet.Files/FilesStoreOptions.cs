using Microsoft.Extensions.Logging;

namespace Ratchet.Files;

/// <summary>Settings of a <see cref="FilesRatchetStore"/>.</summary>
public sealed class FilesStoreOptions : Ratchet.Storage.IStoreOptions
{
    /// <summary>The store's root folder; created on first use. Default <c>.ratchet/state</c>.</summary>
    public string Root { get; set; } = ".ratchet/state";

    /// <summary>The clock for lease expiry, key-value, checkpoint and archive times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the store logs; null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// How long an operation waits for the root's lock file, held by another process (or store instance) that is
    /// reading or writing, before failing with <see cref="StoreUnavailableException"/>. Default 10 seconds.
    /// </summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every problem with these settings, as sentences; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Root))
        {
            problems.Add("Root is empty: give the store's folder, e.g. '.ratchet/state'.");
        }

        if (LockTimeout < TimeSpan.Zero || LockTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"LockTimeout is {LockTimeout}; it must be between 0 and 1 hour.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null; leave it at TimeProvider.System or give a clock.");
        }

        return problems;
    }
}
