using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ratchet.Engine;
using Ratchet.Storage;

namespace Ratchet.Hosting;

/// <summary>What a screen asks of its <see cref="RatchetHost"/>. Every setting has a default that suits a command line.</summary>
public sealed class RatchetHostOptions
{
    /// <summary>
    /// The store URI, any form <see cref="Providers"/> reads (<c>sqlite:PATH</c>, <c>postgres://…</c>); null or empty:
    /// <c>$RATCHET_STORE</c>, else <see cref="StoreProviders.DefaultUri"/>.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>The stores that can be opened by URI. Default <see cref="StoreProviders.Default"/>.</summary>
    public StoreProviders Providers { get; set; } = StoreProviders.Default;

    /// <summary>Where the store, the engine and the host log. Default nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>The clock of the engine and the store. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>How long to wait for a lock another process holds (SQLite's busy timeout, the files store's lock file). Default 5 seconds.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether the engine knows the workflow definitions that runs in this store started with (the copies
    /// <see cref="Ratchet.Yaml.DefinitionCatalog"/> keeps), so that it can resume, approve or run any of them. Default true.
    /// </summary>
    public bool LoadRecordedDefinitions { get; set; } = true;

    /// <summary>A workflow file (with the files it includes) to compile, record in the store and give the engine: the one being run. Default none.</summary>
    public string? WorkflowFile { get; set; }

    /// <summary>A folder to append each workflow's audit events to, as <c>ID.jsonl</c>, as they are committed. Default none.</summary>
    public string? TracesDirectory { get; set; }

    /// <summary>How long a stopped node's command may take to exit (after SIGTERM to its process group) before SIGKILL. Default 10 seconds.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Observers of the engine, each made once the store is open. One that is <see cref="IAsyncDisposable"/> is disposed
    /// by the host, after the engine (so that it has seen every event).
    /// </summary>
    public IList<Func<IRatchetStore, IWorkflowObserver>> Observers { get; } = [];

    /// <summary>
    /// Engine options beyond the host's: a fresh worker id, leases of 15 seconds, a poll every second and
    /// <see cref="StopGracePeriod"/>.
    /// </summary>
    public Action<RatchetOptions>? ConfigureEngine { get; set; }
}
