using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>Configures Ratchet in a host: <c>services.AddRatchet(o => …).UseSqlite(…).AddWorkflow(…)</c>.</summary>
public sealed class RatchetServiceBuilder
{
    internal RatchetServiceBuilder(IServiceCollection services) => Services = services;

    /// <summary>The host's services.</summary>
    public IServiceCollection Services { get; }

    internal List<Func<IServiceProvider, WorkflowDefinition>> Definitions { get; } = [];

    internal Func<IServiceProvider, CancellationToken, Task<IRatchetStore>>? OpenStore { get; set; }

    /// <summary>Registers a definition.</summary>
    public RatchetServiceBuilder AddWorkflow(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Definitions.Add(_ => definition);
        return this;
    }

    /// <summary>Registers a node type, so that definitions using it get it, with its dependencies, from the container.</summary>
    public RatchetServiceBuilder AddNode<TNode>() where TNode : class, IWorkflowNode
    {
        Services.TryAddTransient<TNode>();
        return this;
    }

    /// <summary>Sets how the store is opened; backends' <c>UseSqlite</c> and the like call this.</summary>
    public RatchetServiceBuilder UseStore(Func<IServiceProvider, CancellationToken, Task<IRatchetStore>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        OpenStore = open;
        return this;
    }

    /// <summary>
    /// Opens a backend's store when the engine is first resolved, with <paramref name="open"/>, giving it the
    /// container's <see cref="TimeProvider"/> when one is registered. Backends' <c>UseSqlite</c> and the like are built on it.
    /// </summary>
    public RatchetServiceBuilder UseStore<TOptions>(TOptions options, Func<TOptions, CancellationToken, Task<IRatchetStore>> open)
        where TOptions : IStoreOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(open);
        return UseStore(async (services, cancellationToken) =>
        {
            if (services.GetService(typeof(TimeProvider)) is TimeProvider clock)
            {
                options.TimeProvider = clock;
            }

            return await open(options, cancellationToken);
        });
    }
}

/// <summary>Registers Ratchet's engine and its hosted worker.</summary>
public static class RatchetServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="WorkflowEngine"/> (nodes resolved from this container, observers are every
    /// registered <see cref="IWorkflowObserver"/>) and a hosted service that runs a <see cref="WorkflowRunner"/>.
    /// </summary>
    public static RatchetServiceBuilder AddRatchet(this IServiceCollection services, Action<RatchetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new RatchetServiceBuilder(services);
        services.AddSingleton(builder);
        services.AddSingleton(provider =>
        {
            var setup = new RatchetBuilder()
                .UseServices(provider)
                .UseClock(provider.GetService<TimeProvider>() ?? TimeProvider.System);
            if (provider.GetService<ILoggerFactory>() is { } loggers)
            {
                setup.UseLoggerFactory(loggers);
            }

            if (configure is not null)
            {
                setup.Configure(configure);
            }

            var open = builder.OpenStore ?? throw new InvalidOperationException(
                "AddRatchet needs a store: call UseSqlite (Ratchet.Sqlite) or another backend's Use… on the builder it returns.");
            setup.UseStore(ct => open(provider, ct));
            foreach (var definition in builder.Definitions)
            {
                setup.AddWorkflow(definition(provider));
            }

            foreach (var observer in provider.GetServices<IWorkflowObserver>())
            {
                setup.AddObserver(observer);
            }

            return setup.BuildAsync().GetAwaiter().GetResult();
        });
        services.AddSingleton(provider => provider.GetRequiredService<WorkflowEngine>().Store);
        services.AddHostedService<RatchetWorkerService>();
        return builder;
    }
}

/// <summary>The hosted worker: runs a <see cref="WorkflowRunner"/> for the host's lifetime and stops it gracefully.</summary>
public sealed class RatchetWorkerService(WorkflowEngine engine) : IHostedService, IAsyncDisposable
{
    private WorkflowRunner? _runner;

    /// <summary>The running runner, once started.</summary>
    public WorkflowRunner? Runner => _runner;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _runner = engine.CreateRunner();
        await _runner.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_runner is not null)
        {
            await _runner.StopAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }
    }
}
