using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// Configures Ratchet in a host: <c>services.AddRatchet(o => …).UseSqlite(…).AddWorkflow(…)</c>. What it is given is
/// used when the host starts, when <see cref="RatchetWorkerService"/> opens the store and builds the engine.
/// </summary>
public sealed class RatchetServiceBuilder : IRatchetBuilder
{
    internal RatchetServiceBuilder(IServiceCollection services) => Services = services;

    /// <summary>The host's services.</summary>
    public IServiceCollection Services { get; }

    internal List<WorkflowDefinition> Definitions { get; } = [];

    internal Func<RatchetStoreContext, CancellationToken, Task<IRatchetStore>>? OpenStore { get; private set; }

    /// <summary>Registers a node type, so that definitions using it get it, with its dependencies, from the container.</summary>
    public RatchetServiceBuilder AddNode<TNode>() where TNode : class, IWorkflowNode
    {
        Services.TryAddTransient<TNode>();
        return this;
    }

    void IRatchetBuilder.AddDefinition(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Definitions.Add(definition);
    }

    // The engine's observers are every registered IWorkflowObserver, so one added here is one more of those.
    void IRatchetBuilder.AddWorkflowObserver(IWorkflowObserver observer) => Services.AddSingleton(observer);

    void IRatchetBuilder.ConfigureOptions(Action<RatchetOptions> configure) => Services.Configure(configure);

    void IRatchetBuilder.SetStoreOpener(Func<RatchetStoreContext, CancellationToken, Task<IRatchetStore>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        OpenStore = open;
    }
}
