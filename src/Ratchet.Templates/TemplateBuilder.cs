using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// Builds a template's definition: every step gets its retry policy (the options' override, else the template's
/// default), its time limit, and a failure path to the shared <c>Failed</c> step, which ends the workflow as Failed.
/// </summary>
internal sealed class TemplateBuilder
{
    /// <summary>The failure step every template ends its failure paths with.</summary>
    public const string Failed = "Failed";

    private readonly WorkflowBuilder _builder;
    private readonly WorkflowTemplateOptions _options;
    private readonly RecordFailureNode _failure = new();

    public TemplateBuilder(WorkflowTemplateOptions options, string description)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _builder = new WorkflowBuilder(options.EffectiveName).Description(description);
        if (options.Timeout is { } timeout)
        {
            _builder.Timeout(timeout);
        }
    }

    /// <summary>Adds a step; chain <c>Then</c>/<c>On</c> on the returned builder.</summary>
    public WorkflowBuilder Step(string name, IWorkflowNode node, RetryPolicy defaultRetry, string description) =>
        Configure(_builder.Node(name, node).Describe(description), name, defaultRetry).OnFailure(Failed);

    /// <summary>Adds an approval; a rejection fails it, and so takes the failure path, unless <c>On("rejected", …)</c> says otherwise.</summary>
    public WorkflowBuilder Approval(string name, string prompt) => _builder.Approval(name, prompt).OnFailure(Failed);

    /// <summary>Adds the <c>Failed</c> step and builds the definition.</summary>
    public WorkflowDefinition Build()
    {
        // The failure step has no failure path of its own: if reporting fails for good, the workflow fails with that.
        Configure(_builder.Node(Failed, _failure).Describe("records the failure, calls every IFailureReporter"), Failed, TemplateRetryPolicies.Network)
            .FailsWorkflow();
        var definition = _builder.Build();
        _failure.Attach(definition);
        return definition;
    }

    private WorkflowBuilder Configure(WorkflowBuilder builder, string step, RetryPolicy defaultRetry)
    {
        builder.WithRetry(_options.Retry.TryGetValue(step, out var policy) ? policy : defaultRetry);
        if (_options.StepTimeouts.TryGetValue(step, out var limit))
        {
            builder.WithTimeout(limit);
        }

        return builder;
    }
}
