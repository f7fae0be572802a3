namespace Ratchet.Engine;

public sealed partial class WorkflowRunner
{
    /// <summary>
    /// The one-node definition a phase workflow runs now: its phase in flight, as recorded when the phase started, run
    /// by the engine's <see cref="IPhaseNodeFactory"/>. Null when there is none to run here.
    /// </summary>
    private async Task<WorkflowDefinition?> ResolvePhaseAsync(WorkflowRecord workflow, Execution execution)
    {
        if (await _engine.ResolvePhaseAsync(workflow, CancellationToken.None) is not { } resolved)
        {
            return null;
        }

        execution.Phase = resolved.Phase;
        return resolved.Definition;
    }

    /// <summary>
    /// A claimed workflow that nothing here can run. A phase workflow this engine cannot run phases for (no
    /// <see cref="IPhaseNodeFactory"/>) is left to one that can; any other is failed with why, rather than left stuck.
    /// Returns whether the lease is still held (to be released).
    /// </summary>
    private async Task<bool> LeaveUnrunnableAsync(WorkflowRecord workflow)
    {
        if (!PhaseWorkflows.IsPhaseWorkflow(workflow))
        {
            await FailUnrunnableAsync(workflow);
            return false;
        }

        if (_engine.PhaseNodes is null)
        {
            Log.PhaseNotRunnable(_engine.Logger, workflow.Id, workflow.CurrentNode ?? "?");
            return true;
        }

        await FailUnrunnableAsync(workflow, new WorkflowError("phase-missing",
            $"Workflow '{workflow.Id}' is run by phases, and no phase is recorded in flight at its node '{workflow.CurrentNode}'; run that phase again."));
        return false;
    }

    /// <summary>What a phase workflow's step leads to, as phases take it (see <see cref="Steps.ClosePhase"/>).</summary>
    private static StepPlan ForPhase(StepPlan plan, WorkflowRecord before, Execution execution) =>
        execution.Phase is { } phase ? Steps.ClosePhase(plan, before, phase) : plan;
}
