namespace Ratchet.Templates;

/// <summary>
/// Fails a template step at once, without retries: throw it from a step implementation when trying again cannot help
/// (the issue is not actionable, the comment asks for nothing). The workflow then takes its failure path.
/// </summary>
public sealed class StepFailedException(string message, Exception? innerException = null)
    : RatchetException(message, innerException)
{
    /// <inheritdoc />
    public override string ErrorCode => "step-failed";
}

/// <summary>A template step found no implementation of the interface it calls in the engine's services.</summary>
public sealed class StepImplementationMissingException(Type service, string workflowType, string step)
    : RatchetException(
        $"Step '{step}' of workflow type '{workflowType}' calls {service.Name}, and no {service.Name} is registered in the services the engine resolves nodes from. " +
        $"Register your implementation, for example services.AddSingleton<{service.Name}, YourImplementation>(), and pass those services to the engine (AddRatchet does; RatchetBuilder needs UseServices).")
{
    /// <summary>The interface with no implementation.</summary>
    public Type Service { get; } = service;

    /// <summary>The workflow type whose step needed it.</summary>
    public string WorkflowType { get; } = workflowType;

    /// <summary>The step that needed it.</summary>
    public string Step { get; } = step;

    /// <inheritdoc />
    public override string ErrorCode => "step-implementation-missing";
}

/// <summary>
/// Reporting a failure to the registered <see cref="IFailureReporter"/>s failed. Transient, so the failure step's retry
/// policy tries again; the message names the original failure too, so that it is not lost if every attempt fails.
/// </summary>
public sealed class FailureReportingException(FailureReport report, Exception innerException)
    : RatchetException(
        $"Reporting the failure of step '{report.FailedStep}' of workflow '{report.WorkflowId}' ({report.Error.Type}: {report.Error.Message}) failed: {innerException.Message}",
        innerException)
{
    /// <summary>The failure that was being reported.</summary>
    public FailureReport Report { get; } = report;

    /// <inheritdoc />
    public override bool IsTransient => true;

    /// <inheritdoc />
    public override string ErrorCode => "failure-report-failed";
}
