using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ratchet.Engine;

/// <summary>Registers Ratchet's engine and its hosted worker.</summary>
public static class RatchetServiceCollectionExtensions
{
    /// <summary>
    /// Adds Ratchet to a host: <see cref="RatchetOptions"/> (configured by <paramref name="configure"/> and validated
    /// when the host starts, every problem listed), a hosted <see cref="RatchetWorkerService"/> that opens the store,
    /// builds the engine and runs a <see cref="WorkflowRunner"/> for the host's lifetime, and, resolvable once the host
    /// has started, <see cref="WorkflowEngine"/> and <see cref="Storage.IRatchetStore"/> (before that, take
    /// <see cref="RatchetEngineProvider"/>). Nodes are resolved from this container; the engine's observers are every
    /// registered <see cref="IWorkflowObserver"/>; its clock, id source and loggers are the registered
    /// <see cref="TimeProvider"/>, <see cref="IWorkflowIdGenerator"/> and <c>ILoggerFactory</c>, given to the store too.
    /// Everything is added with <c>TryAdd</c>, so what the application registers itself wins; calling it again adds
    /// to the same configuration.
    /// </summary>
    public static RatchetServiceBuilder AddRatchet(this IServiceCollection services, Action<RatchetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RatchetOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RatchetOptions>, RatchetOptionsValidation>());
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(RatchetServiceBuilder) && !d.IsKeyedService)
                ?.ImplementationInstance is RatchetServiceBuilder existing)
        {
            return existing;
        }

        var builder = new RatchetServiceBuilder(services);
        services.AddSingleton(builder);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IWorkflowIdGenerator>(CrockfordIdGenerator.Instance);
        services.TryAddSingleton(provider => new RatchetEngineProvider(provider, provider.GetRequiredService<RatchetServiceBuilder>()));
        services.TryAddSingleton(provider => provider.GetRequiredService<RatchetEngineProvider>().Engine);
        services.TryAddSingleton(provider => provider.GetRequiredService<WorkflowEngine>().Store);
        services.AddHostedService<RatchetWorkerService>();
        return builder;
    }

    /// <summary>Fails the host's start with every problem <see cref="RatchetOptions.Validate"/> finds.</summary>
    private sealed class RatchetOptionsValidation : IValidateOptions<RatchetOptions>
    {
        public ValidateOptionsResult Validate(string? name, RatchetOptions options)
        {
            var problems = options.Validate();
            return problems.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(problems);
        }
    }
}
