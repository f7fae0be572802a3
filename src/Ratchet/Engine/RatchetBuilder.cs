using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// The plain way to build an engine (the CLI, tests and scripts use it; the host's <c>AddRatchet</c> builds its engine
/// with it too): a store, definitions, options, then <see cref="BuildAsync"/>. Definitions, observers, options and
/// backends' stores are added with the extensions every <see cref="IRatchetBuilder"/> has
/// (<see cref="RatchetBuilderExtensions"/>, <c>UseSqlite</c> and the like).
/// </summary>
public sealed class RatchetBuilder : IRatchetBuilder
{
    private readonly WorkflowRegistry _registry = new();
    private readonly List<IWorkflowObserver> _observers = [];
    private RatchetOptions _options = new();
    private IRatchetStore? _store;
    private Func<RatchetStoreContext, CancellationToken, Task<IRatchetStore>>? _openStore;
    private bool _ownsStore;
    private IServiceProvider? _services;
    private TimeProvider _clock = TimeProvider.System;
    private IWorkflowIdGenerator _ids = CrockfordIdGenerator.Instance;
    private ILoggerFactory? _loggerFactory;

    /// <summary>The clock given with <see cref="UseClock"/>; backends opening a store at build time give it to the store.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>The logger factory given with <see cref="UseLoggerFactory"/>, if any.</summary>
    public ILoggerFactory? LoggerFactory => _loggerFactory;

    /// <summary>Uses a store the caller opened (and will close).</summary>
    public RatchetBuilder UseStore(IRatchetStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _openStore = null;
        _ownsStore = false;
        return this;
    }

    /// <summary>Opens the store when the engine is built, and closes it with the engine.</summary>
    public RatchetBuilder UseStore(Func<CancellationToken, Task<IRatchetStore>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        return this.UseStore((_, cancellationToken) => open(cancellationToken));
    }

    /// <summary>The services nodes are resolved from; default none (nodes are then created with their parameterless constructor).</summary>
    public RatchetBuilder UseServices(IServiceProvider services) => Set(ref _services, services);

    /// <summary>The clock; tests pass a manual one.</summary>
    public RatchetBuilder UseClock(TimeProvider clock) => Set(ref _clock, clock);

    /// <summary>The source of workflow ids.</summary>
    public RatchetBuilder UseIdGenerator(IWorkflowIdGenerator ids) => Set(ref _ids, ids);

    /// <summary>Where the engine logs.</summary>
    public RatchetBuilder UseLoggerFactory(ILoggerFactory loggerFactory) => Set(ref _loggerFactory, loggerFactory);

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

        var store = _store ?? await _openStore!(
            new RatchetStoreContext { Clock = _clock, LoggerFactory = _loggerFactory, Services = _services }, cancellationToken);
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

    /// <summary>Starts from options validated elsewhere (the host's <c>IOptions&lt;RatchetOptions&gt;</c>), copied.</summary>
    internal RatchetBuilder UseOptions(RatchetOptions options)
    {
        _options = options.Clone();
        return this;
    }

    void IRatchetBuilder.AddDefinition(WorkflowDefinition definition) => _registry.Add(definition);

    void IRatchetBuilder.AddWorkflowObserver(IWorkflowObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _observers.Add(observer);
    }

    void IRatchetBuilder.ConfigureOptions(Action<RatchetOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
    }

    void IRatchetBuilder.SetStoreOpener(Func<RatchetStoreContext, CancellationToken, Task<IRatchetStore>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        _openStore = open;
        _store = null;
        _ownsStore = true;
    }

    private RatchetBuilder Set<T>(ref T field, T value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        field = value;
        return this;
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
