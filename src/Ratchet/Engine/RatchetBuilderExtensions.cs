using System.Runtime.CompilerServices;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// The registrations every engine builder has, written once for both (<see cref="RatchetBuilder"/> and
/// <see cref="RatchetServiceBuilder"/>); each returns the builder it was called on, so a chain keeps its type.
/// </summary>
public static class RatchetBuilderExtensions
{
    /// <summary>Registers a definition.</summary>
    public static TBuilder AddWorkflow<TBuilder>(this TBuilder builder, WorkflowDefinition definition)
        where TBuilder : class, IRatchetBuilder => Apply(builder, definition, static (b, d) => b.AddDefinition(d));

    /// <summary>Adds an observer of every state change (in a host: registered as a singleton <see cref="IWorkflowObserver"/>).</summary>
    public static TBuilder AddObserver<TBuilder>(this TBuilder builder, IWorkflowObserver observer)
        where TBuilder : class, IRatchetBuilder => Apply(builder, observer, static (b, o) => b.AddWorkflowObserver(o));

    /// <summary>Changes options (in a host: <c>services.Configure&lt;RatchetOptions&gt;</c>, validated when the host starts).</summary>
    public static TBuilder Configure<TBuilder>(this TBuilder builder, Action<RatchetOptions> configure)
        where TBuilder : class, IRatchetBuilder => Apply(builder, configure, static (b, c) => b.ConfigureOptions(c));

    /// <summary>Opens the store with <paramref name="open"/> when the engine is built, and closes it with the engine.</summary>
    public static TBuilder UseStore<TBuilder>(this TBuilder builder, Func<RatchetStoreContext, CancellationToken, Task<IRatchetStore>> open)
        where TBuilder : class, IRatchetBuilder => Apply(builder, open, static (b, o) => b.SetStoreOpener(o));

    /// <summary>
    /// Opens a backend's store with <paramref name="open"/> when the engine is built, and closes it with the engine:
    /// <paramref name="configure"/> changes <paramref name="options"/> now (so that bad settings are refused at
    /// registration), and at build time the store is given the engine's clock (unless the options name a clock of
    /// their own) and loggers (unless they name their own). Backends' <c>UseSqlite</c>, <c>UseFiles</c>,
    /// <c>UsePostgres</c> and <c>UseRedis</c> are built on it.
    /// </summary>
    public static TBuilder UseStore<TBuilder, TOptions>(this TBuilder builder, TOptions options,
        Func<TOptions, CancellationToken, Task<IRatchetStore>> open, Action<TOptions>? configure = null)
        where TBuilder : class, IRatchetBuilder
        where TOptions : IStoreOptions
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(open);
        configure?.Invoke(options);
        return builder.UseStore(async (context, cancellationToken) =>
        {
            if (options.TimeProvider == TimeProvider.System)
            {
                options.TimeProvider = context.Clock;
            }

            options.LoggerFactory ??= context.LoggerFactory;
            return await open(options, cancellationToken);
        });
    }

    private static TBuilder Apply<TBuilder, TValue>(TBuilder builder, TValue value, Action<TBuilder, TValue> apply,
        [CallerArgumentExpression(nameof(value))] string? name = null)
        where TBuilder : class, IRatchetBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(value, name);
        apply(builder, value);
        return builder;
    }
}
