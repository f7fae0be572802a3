using Microsoft.Extensions.Logging;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// The few things every way of building an engine accepts: the plain <see cref="RatchetBuilder"/> and the host's
/// <see cref="RatchetServiceBuilder"/> (from <c>services.AddRatchet()</c>) both implement it, so that each
/// <c>UseX</c>/<c>AddX</c> is written once, as an extension generic over the builder that returns the caller's own
/// builder type (<see cref="RatchetBuilderExtensions"/>, a backend's <c>UseSqlite</c>, the templates'
/// <c>AddIssueImplementation</c>). Call those extensions; these members are what they are built on.
/// </summary>
public interface IRatchetBuilder
{
    /// <summary>Registers a definition (the engine refuses two with the same name and version when it is built).</summary>
    void AddDefinition(WorkflowDefinition definition);

    /// <summary>Adds an observer of every state change.</summary>
    void AddWorkflowObserver(IWorkflowObserver observer);

    /// <summary>Changes the engine's options; they are validated, every problem listed, when the engine is built.</summary>
    void ConfigureOptions(Action<RatchetOptions> configure);

    /// <summary>
    /// Sets how the store is opened when the engine is built (the engine then closes it with itself); the last call
    /// wins. <paramref name="open"/> gets the engine's clock, loggers and services, to hand on to the store.
    /// </summary>
    void SetStoreOpener(Func<RatchetStoreContext, CancellationToken, Task<IRatchetStore>> open);
}

/// <summary>What a store opener is given when the engine is built: the parts of the engine the store should share.</summary>
public sealed record RatchetStoreContext
{
    /// <summary>The engine's clock (the builder's <see cref="RatchetBuilder.UseClock"/>, or the host's <see cref="TimeProvider"/>).</summary>
    public required TimeProvider Clock { get; init; }

    /// <summary>The engine's loggers (the builder's <see cref="RatchetBuilder.UseLoggerFactory"/>, or the host's); null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The services nodes are resolved from (the host's container); null for a plain builder without <see cref="RatchetBuilder.UseServices"/>.</summary>
    public IServiceProvider? Services { get; init; }
}
