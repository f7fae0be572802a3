using Microsoft.Extensions.Logging;
using Ratchet.Agents;
using Ratchet.Engine;
using Ratchet.Storage;
using Ratchet.Yaml;

namespace Ratchet.Hosting;

/// <summary>
/// Everything a screen (the command line, an HTTP API, a dashboard) needs to run workflows, built in one call: the
/// store named by URI, an engine that knows the definitions runs in it started with (and the workflow file being run),
/// shell settings with run and workspace folders beside the store, workspace bookkeeping, trace files, the screen's
/// observers, phases (<see cref="Phases"/>) and the store's upkeep (<see cref="Maintenance"/>).
/// </summary>
/// <example>
/// <code>
/// await using var host = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:.ratchet/ratchet.db", WorkflowFile = "fix.yaml" });
/// var workflow = await host.Engine.StartAsync(host.Compiled[0].Definition.Name, input);
/// </code>
/// </example>
public sealed class RatchetHost : IAsyncDisposable
{
    private readonly IReadOnlyList<IWorkflowObserver> _ownedObservers;

    private RatchetHost(StoreTarget target, RatchetFolders folders, IRatchetStore store, WorkflowEngine engine, ShellOptions shell,
        IReadOnlyList<CompiledWorkflow> compiled, IReadOnlyList<IWorkflowObserver> ownedObservers)
    {
        Target = target;
        Folders = folders;
        Store = store;
        Engine = engine;
        Shell = shell;
        Compiled = compiled;
        _ownedObservers = ownedObservers;
        Phases = new PhaseRunner(engine);
        Maintenance = new StoreMaintenance(store, folders, engine.Clock);
    }

    /// <summary>The store's URI as its provider read it.</summary>
    public StoreTarget Target { get; }

    /// <summary>Where run logs and workspaces live.</summary>
    public RatchetFolders Folders { get; }

    /// <summary>The open store.</summary>
    public IRatchetStore Store { get; }

    /// <summary>The engine, on <see cref="Store"/>.</summary>
    public WorkflowEngine Engine { get; }

    /// <summary>Where and how YAML nodes' and phases' commands run.</summary>
    public ShellOptions Shell { get; }

    /// <summary>The workflow file of <see cref="RatchetHostOptions.WorkflowFile"/>, compiled: the root first, then the files it includes. Empty without one.</summary>
    public IReadOnlyList<CompiledWorkflow> Compiled { get; }

    /// <summary>Phases of workflows run by phases.</summary>
    public PhaseRunner Phases { get; }

    /// <summary>Cleanup, archive, summaries, export and import.</summary>
    public StoreMaintenance Maintenance { get; }

    /// <summary>
    /// Opens the store, loads the recorded definitions, compiles and records the workflow file if one is given, and
    /// builds the engine. A file or a store that cannot be used leaves nothing open.
    /// </summary>
    /// <exception cref="InvalidStoreUriException">The store URI names no supported store.</exception>
    /// <exception cref="WorkflowFileException">The workflow file is not valid.</exception>
    public static async Task<RatchetHost> OpenAsync(RatchetHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var target = options.Providers.Parse(StoreProviders.Resolve(options.Store));
        var folders = RatchetFolders.Of(target);
        var store = await target.OpenAsync(new StoreOpenSettings
        {
            LockTimeout = options.LockTimeout,
            LoggerFactory = options.LoggerFactory,
            TimeProvider = options.Clock,
        }, cancellationToken);
        var owned = new List<IWorkflowObserver>();
        try
        {
            var shell = ShellFor(target.Uri, folders) with
            {
                Store = store,
                ResolveAgent = AgentVariables.Resolver(new AgentDirectory(store)),
            };
            var builder = new RatchetBuilder()
                .UseStore(store)
                .UseClock(options.Clock)
                .UseLoggerFactory(options.LoggerFactory)
                .UseServices(new HostServices(new ShellPhaseNodes(shell, target.Uri)))
                .Configure(o =>
                {
                    o.WorkerId = WorkerIdentity.NewOwnerId();
                    o.LeaseDuration = TimeSpan.FromSeconds(15);
                    o.PollInterval = TimeSpan.FromSeconds(1);
                    o.StopGracePeriod = options.StopGracePeriod;
                    options.ConfigureEngine?.Invoke(o);
                })
                .AddObserver(new WorkspaceObserver(store));
            if (options.TracesDirectory is { Length: > 0 } traces)
            {
                builder.AddObserver(new TraceFileObserver(store, traces));
            }

            foreach (var create in options.Observers)
            {
                var observer = create(store);
                owned.Add(observer);
                builder.AddObserver(observer);
            }

            if (options.LoadRecordedDefinitions)
            {
                foreach (var recorded in await LoadRecordedAsync(store, shell, options.LoggerFactory, cancellationToken))
                {
                    builder.AddWorkflow(recorded.Definition);
                }
            }

            IReadOnlyList<CompiledWorkflow> compiled = [];
            if (options.WorkflowFile is { } file)
            {
                compiled = WorkflowCompiler.Load(file, shell, cancellationToken);

                // Recorded so that resume, approve and workers elsewhere run exactly this definition later.
                await DefinitionCatalog.SaveAsync(store, compiled, cancellationToken);
                foreach (var workflow in compiled)
                {
                    builder.AddWorkflow(workflow.Definition);
                }
            }

            var engine = await builder.BuildAsync(cancellationToken);
            return new RatchetHost(target, folders, store, engine, shell, compiled, owned);
        }
        catch
        {
            await DisposeAllAsync(owned);
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Shell settings for workflows of the store at <paramref name="storeUri"/>, without opening it (to check a
    /// workflow file, say): run and workspace folders beside the store, and the secrets to mask, the store's password
    /// among them (this process knows it though no variable holds it).
    /// </summary>
    public static ShellOptions ShellFor(string storeUri, StoreProviders? providers = null)
    {
        ArgumentNullException.ThrowIfNull(storeUri);
        return ShellFor(storeUri, RatchetFolders.For(storeUri, providers ?? StoreProviders.Default));
    }

    /// <summary>
    /// The version of the workflow file this host was opened with (<see cref="RatchetHostOptions.WorkflowFile"/>,
    /// recorded in the definition catalog), for a retry or fork of <paramref name="workflow"/> to go on with; null
    /// without a file.
    /// </summary>
    /// <exception cref="ArgumentException">The file defines another workflow than <paramref name="workflow"/>'s type.</exception>
    public string? FileDefinitionVersionFor(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        if (Compiled.Count == 0)
        {
            return null;
        }

        var root = Compiled[0];
        return root.Definition.Name == workflow.Type
            ? root.Definition.Version
            : throw new ArgumentException(
                $"The file '{root.File.Path}' defines the workflow '{root.Definition.Name}', but workflow '{workflow.Id}' is a '{workflow.Type}'; pass a file that defines '{workflow.Type}'.",
                nameof(workflow));
    }

    /// <summary>
    /// After <see cref="WorkflowEngine.CancelAsync"/> of a workflow whose node runs in another process (the cancelled
    /// record still names its lease owner): that process sees the cancel within about a second, stops the node's
    /// command and lets go of the lease. Waits for that, up to the stop grace period and 5 seconds more, so that a
    /// screen can say the command's side effects are over. Returns whether the node stopped in time.
    /// </summary>
    public async Task<bool> WaitForNodeToStopAsync(WorkflowRecord cancelled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cancelled);
        if (cancelled.LeaseOwner is not { } owner)
        {
            return true;
        }

        var clock = Engine.Clock;
        var started = clock.GetTimestamp();
        var limit = Engine.Options.StopGracePeriod + TimeSpan.FromSeconds(5);
        while (clock.GetElapsedTime(started) < limit)
        {
            var now = await Store.GetWorkflowAsync(cancelled.Id, cancellationToken);
            if (now?.LeaseOwner != owner || now.LeaseExpiresAt <= clock.GetUtcNow() || WorkerIdentity.Liveness(owner) == OwnerLiveness.Dead)
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, cancellationToken);
        }

        return false;
    }

    /// <summary>Stops the engine (its runners release what they hold), then the observers the host made, then closes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        await DisposeAllAsync(_ownedObservers);
        await Store.DisposeAsync();
    }

    private static ShellOptions ShellFor(string storeUri, RatchetFolders folders) => new()
    {
        RunsDirectory = folders.Runs,
        WorkspacesDirectory = folders.Workspaces,
        Redactor = SecretRedactor.FromEnvironment(ShellOptions.EnvironmentVariables(), StoreUri.Passwords(storeUri)),
    };

    private static async Task<IReadOnlyList<CompiledWorkflow>> LoadRecordedAsync(IRatchetStore store, ShellOptions shell, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        try
        {
            return await DefinitionCatalog.LoadAllAsync(store, shell, cancellationToken);
        }
        catch (WorkflowFileException ex)
        {
            // A recorded definition this build cannot read: the workflows that use it cannot run here, the rest can.
            Log.RecordedDefinitionUnreadable(loggerFactory.CreateLogger<RatchetHost>(), ex.Message);
            return [];
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<IWorkflowObserver> observers)
    {
        foreach (var observer in observers)
        {
            if (observer is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    /// <summary>The engine's services: what the host adds for nodes, the phase nodes among them.</summary>
    private sealed class HostServices(IPhaseNodeFactory phaseNodes) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IPhaseNodeFactory) ? phaseNodes : null;
    }
}

/// <summary>Where Ratchet keeps its own files for a store: beside a SQLite file or a files store's folder, else in <c>.ratchet/</c>.</summary>
/// <param name="State">The folder that holds the others.</param>
/// <param name="Runs">Per-workflow run folders: <c>Runs/ID/logs/NODE.log</c>, <c>$RATCHET_RUN_DIR</c>.</param>
/// <param name="Workspaces">Isolated workspaces: <c>Workspaces/ID</c>.</param>
public sealed record RatchetFolders(string State, string Runs, string Workspaces)
{
    /// <summary>The folders of <paramref name="target"/>.</summary>
    public static RatchetFolders Of(StoreTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return In(target.StateDirectory);
    }

    /// <summary>
    /// The folders of the store at <paramref name="storeUri"/>; a URI no provider reads (it is refused when the store is
    /// opened) has them in <c>.ratchet/</c>.
    /// </summary>
    public static RatchetFolders For(string storeUri, StoreProviders providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        try
        {
            return Of(providers.Parse(storeUri));
        }
        catch (InvalidStoreUriException)
        {
            return In(Path.GetFullPath(".ratchet"));
        }
    }

    /// <summary>The run folder of one workflow.</summary>
    public string RunFolder(string workflowId) => Path.Combine(Runs, workflowId);

    private static RatchetFolders In(string state) => new(state, Path.Combine(state, "runs"), Path.Combine(state, "workspaces"));
}
