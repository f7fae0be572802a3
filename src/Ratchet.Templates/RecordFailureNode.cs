using Microsoft.Extensions.DependencyInjection;
using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// The <c>Failed</c> step every template ends a failure path with: names the step that failed, records a
/// <see cref="FailureReport"/> as its output, and tells every registered <see cref="IFailureReporter"/>. The workflow
/// then ends Failed with the original error.
/// </summary>
internal sealed class RecordFailureNode : IWorkflowNode
{
    private WorkflowDefinition? _definition;

    /// <summary>The definition this node belongs to, set once it is built; read-only from then on.</summary>
    public void Attach(WorkflowDefinition definition) => _definition = definition;

    public async Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var definition = _definition ?? throw new InvalidOperationException("The failure step was used before its template was built.");
        var report = new FailureReport(
            context.WorkflowId,
            context.WorkflowType,
            FailedStep(definition, context),
            context.LastError ?? new WorkflowError("unknown", $"Workflow '{context.WorkflowId}' reached its failure step without a recorded error."),
            context.Clock.GetUtcNow(),
            context.Input);

        if (context.Services.GetService<IServiceScopeFactory>() is { } scopes)
        {
            await using var scope = scopes.CreateAsyncScope();
            await ReportAsync(report, scope.ServiceProvider, context, cancellationToken);
        }
        else
        {
            await ReportAsync(report, context.Services, context, cancellationToken);
        }

        return NodeResult.Success(report);
    }

    /// <summary>
    /// The step that failed: the one the last completed step led to, past approvals that were decided since (an
    /// approval's artifact is its decision). With no step completed yet, the first step failed.
    /// </summary>
    internal static string FailedStep(WorkflowDefinition definition, NodeContext context)
    {
        if (!context.TryGet<CompletedStep>(TemplateArtifacts.LastStep, out var last) || last is null || !definition.HasNode(last.Step))
        {
            return definition.StartNode;
        }

        var step = definition[last.Step].TargetFor(last.Outcome);
        for (var hops = 0; step is not null && hops < definition.Nodes.Count; hops++)
        {
            var node = definition[step];
            if (node is not ApprovalNodeDefinition || !context.TryGet<ApprovalDecision>(step, out var decision) || decision is null)
            {
                break;
            }

            step = node.TargetFor(decision.Approved ? WorkflowDefinition.Approved : WorkflowDefinition.Rejected);
        }

        return step ?? last.Step;
    }

    private static async Task ReportAsync(FailureReport report, IServiceProvider services, NodeContext context, CancellationToken cancellationToken)
    {
        var step = StepContext.FromNode(context);
        foreach (var reporter in services.GetServices<IFailureReporter>())
        {
            try
            {
                await reporter.ReportFailureAsync(report, step, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new FailureReportingException(report, ex);
            }
        }
    }
}
