using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// The plain way to build an engine (the CLI, tests and scripts use it; the DI extensions use it too): a store,
/// definitions, options, then <see cref="Build"/>.
/// </summary>
public sealed class RatchetBuilder
{
    private readonly WorkflowRegistry _registry = new();
    private readonly List<IWorkflowObserver> _observers = [];
    private readonly RatchetOptions _options = new();
    private IRatchetStore? _store;
    private Func<CancellationToken, Task<IRatchetStore>>? _openStore;
    private bool _ownsStore;
    private IServiceProvider? _services;
    private TimeProvider _clock = TimeProvider.System;
    private IWorkflowIdGenerator _ids = CrockfordIdGenerator.Instance;
    private ILoggerFactory? _loggerFactory;

    /// <summary>Uses a store the caller opened (and will close).</summary>
    public RatchetBuilder UseStore(IRatchetStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _openStore = null;
        _ownsStore = false;
        return this;
    }

    /// <summary>The clock given with <see cref="UseClock"/>; backends opening a store at build time give it to the store.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>The logger factory given with <see cref="UseLoggerFactory"/>, if any.</summary>
    public ILoggerFactory? LoggerFactory => _loggerFactory;

    /// <summary>Opens the store when the engine is built, and closes it with the engine. Backends add <c>UseSqlite</c> and the like on this.</summary>
    public RatchetBuilder UseStore(Func<CancellationToken, Task<IRatchetStore>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        _openStore = open;
        _store = null;
        _ownsStore = true;
        return this;
    }

    /// <summary>Registers a definition.</summary>
    public RatchetBuilder AddWorkflow(WorkflowDefinition definition)
    {
        _registry.Add(definition);
        return this;
    }

    /// <summary>
    /// Opens a backend's store when the engine is built, with <paramref name="open"/>, giving it the builder's clock
    /// (unless the options name a clock of their own) and loggers (unless they name their own). Read at build time, so
    /// that <see cref="UseClock"/> and <see cref="UseLoggerFactory"/> apply whichever order they were called in.
    /// Backends' <c>UseSqlite</c>, <c>UseFiles</c>, <c>UsePostgres</c> and <c>UseRedis</c> are built on it.
    /// </summary>
    public RatchetBuilder UseStore<TOptions>(TOptions options, Func<TOptions, CancellationToken, Task<IRatchetStore>> open)
        where TOptions : IStoreOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(open);
        return UseStore(async cancellationToken =>
        {
            if (options.TimeProvider == TimeProvider.System)
            {
                options.TimeProvider = Clock;
            }

            options.LoggerFactory ??= LoggerFactory;
            return await open(options, cancellationToken);
        });
    }

    /// <summary>Adds an observer of every state change.</summary>
    public RatchetBuilder AddObserver(IWorkflowObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _observers.Add(observer);
        return this;
    }

    /// <summary>Changes options.</summary>
    public RatchetBuilder Configure(Action<RatchetOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        return this;
    }

    /// <summary>The services nodes are resolved from; default none (nodes are then created with their parameterless constructor).</summary>
    public RatchetBuilder UseServices(IServiceProvider services)
    {
        _services = services;
        return this;
    }

    /// <summary>The clock; tests pass a manual one.</summary>
    public RatchetBuilder UseClock(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        return this;
    }

    /// <summary>The source of workflow ids.</summary>
    public RatchetBuilder UseIdGenerator(IWorkflowIdGenerator ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        _ids = ids;
        return this;
    }

    /// <summary>Where the engine logs.</summary>
    public RatchetBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Validates the options (listing every problem), opens the store if asked to, and builds the engine.</summary>
    /// <exception cref="ArgumentException">The options are invalid, or no store was given.</exception>
    public async Task<WorkflowEngine> BuildAsync(CancellationToken cancellationToken = default)
    {
        var problems = _options.Validate().ToList();
        if (_store is null && _openStore is null)
        {
            problems.Add("No store was given: call UseStore, or a backend's UseSqlite/UsePostgres/UseRedis/UseFiles.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Ratchet configuration: " + string.Join(" ", problems));
        }

        var store = _store ?? await _openStore!(cancellationToken);
        return new WorkflowEngine(store, _registry, _options.Clone(), _services ?? EmptyServices.Instance, _clock, _ids,
            _loggerFactory, _observers.ToArray(), _ownsStore);
    }

    /// <summary>Builds the engine around a store the caller opened.</summary>
    public WorkflowEngine Build()
    {
        if (_store is null)
        {
            throw new InvalidOperationException("Build needs a store given with UseStore(store); use BuildAsync when the builder opens the store.");
        }

        return BuildAsync().GetAwaiter().GetResult();
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
