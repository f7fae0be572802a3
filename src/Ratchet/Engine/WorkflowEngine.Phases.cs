using System.Text.Json;
using Ratchet.Storage;

namespace Ratchet.Engine;

public sealed partial class WorkflowEngine
{
    /// <summary>How long the types of phase workflows in flight are taken as known before the store is asked again.</summary>
    private static readonly TimeSpan PhaseTypesRefresh = TimeSpan.FromSeconds(5);

    private PhaseTypes? _phaseTypes;

    /// <summary>The engine's phase nodes, from its services; null when it runs no phases.</summary>
    internal IPhaseNodeFactory? PhaseNodes => Services.GetService(typeof(IPhaseNodeFactory)) as IPhaseNodeFactory;

    /// <summary>
    /// Creates a workflow run by phases (<see cref="PhaseWorkflows"/>): no definition, nothing due until a phase runs
    /// in it. Idempotent by <paramref name="id"/>, as <see cref="StartAsync"/> is.
    /// </summary>
    /// <exception cref="WorkflowAlreadyExistsException">The id is taken by a workflow of another type.</exception>
    internal Task<CreateWorkflowResult> CreatePhaseWorkflowAsync(string type, string? id = null, JsonElement? input = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        var request = new NewWorkflow { Type = type, Id = id, Input = input, DefinitionVersion = PhaseWorkflows.DefinitionVersion };

        // Nothing due: no worker takes a workflow between phases; a phase makes it due while it runs.
        return Creator.CreateAsync(request, static (record, _) => record with { DueAt = null }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="phase"/> of a workflow run by phases, durably, in this process: unless the phase completed
    /// before (then nothing runs), its start is committed and recorded, the node runs in a runner of this engine like
    /// any node (each attempt committed; a retry waits as a due time in the store, not in memory), and the call returns
    /// once the phase has completed, failed for good, or was stopped by <paramref name="cancellationToken"/> (the
    /// workflow is then left resumable). If this process dies meanwhile, <see cref="ResumeAsync"/> or any worker of an
    /// engine that runs phases runs the phase on.
    /// </summary>
    /// <param name="workflowId">The workflow.</param>
    /// <param name="phase">The phase.</param>
    /// <param name="started">Called once the phase's start is committed, before its first attempt runs.</param>
    /// <param name="cancellationToken">Stops the phase (an interruption, not a failure).</param>
    /// <exception cref="NotAPhaseWorkflowException">The workflow runs a definition.</exception>
    /// <exception cref="InvalidTransitionException">The workflow has ended, waits for something else, or another live process runs a phase in it.</exception>
    /// <exception cref="InvalidOperationException">This engine has no <see cref="IPhaseNodeFactory"/>.</exception>
    internal async Task<PhaseRunResult> RunPhaseAsync(string workflowId, PhaseSpec phase, Func<PhaseStart, CancellationToken, Task>? started = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentNullException.ThrowIfNull(phase);
        if (phase.Problems().ToList() is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(phase));
        }

        if (PhaseNodes is null)
        {
            throw new InvalidOperationException("This engine runs no phases: register an IPhaseNodeFactory in its services.");
        }

        await using var runner = CreateRunner(workflowId);
        var (skipped, start) = await BeginPhaseAsync(runner, workflowId, phase, cancellationToken);
        if (skipped is not null)
        {
            return skipped;
        }

        if (started is not null)
        {
            await started(start!, cancellationToken);
        }

        await runner.StartAsync(cancellationToken);
        runner.Accept(start!.Workflow);
        WorkflowRecord final;
        try
        {
            using var following = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var settled = WaitForAsync(workflowId, w => w.IsTerminal || PhaseWorkflows.IsBetweenPhases(w) || w is { Status: WorkflowStatus.Waiting, WaitReason: not WaitReason.Timer }, following.Token);
            if (await Task.WhenAny(settled, runner.StoreFailure) != settled)
            {
                // The store would not take the phase's result even after trying again: stop, leaving it resumable.
                await following.CancelAsync();
                await settled.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                await StopNowAsync(runner);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(await runner.StoreFailure).Throw();
            }

            final = await settled;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await StopNowAsync(runner);
            var left = await Store.GetRequiredWorkflowAsync(workflowId, CancellationToken.None);
            return new PhaseRunResult(PhaseOutcome.Interrupted, left, start, null);
        }

        await runner.StopAsync(CancellationToken.None);
        var step = (await Store.GetStepsAsync(workflowId, CancellationToken.None)).LastOrDefault(s => s.Node == phase.Name);
        var outcome = final switch
        {
            { Status: WorkflowStatus.Failed } => PhaseOutcome.Failed,
            { Status: WorkflowStatus.Cancelled } => PhaseOutcome.Cancelled,
            { Status: WorkflowStatus.Waiting } => PhaseOutcome.Interrupted,
            _ => PhaseOutcome.Completed,
        };
        return new PhaseRunResult(outcome, final, start, step);
    }

    /// <summary>
    /// Decides what the phase does and, unless it completed before, commits its start with this runner holding the
    /// workflow. A live process running a phase in it is waited for by nobody: the call is refused. A dead one's
    /// attempt is taken over (its leftover processes stopped first).
    /// </summary>
    private async Task<(PhaseRunResult? Skipped, PhaseStart? Start)> BeginPhaseAsync(WorkflowRunner runner, string workflowId, PhaseSpec phase, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            if (!PhaseWorkflows.IsPhaseWorkflow(workflow) && !PhaseWorkflows.IsUnmarkedPhaseWorkflow(workflow))
            {
                throw new NotAPhaseWorkflowException(workflow);
            }

            var steps = await Store.GetStepsAsync(workflowId, cancellationToken);
            var now = Clock.GetStoreNow();
            if (steps.LastOrDefault(s => s.Node == phase.Name && s.Outcome == StepOutcome.Completed) is { } done)
            {
                if (phase.Final && workflow.Status == WorkflowStatus.Running)
                {
                    try
                    {
                        workflow = await CommitAsync(Steps.CompleteByFinalPhase(workflow, phase.Name, now, Observers.HasObservers), workflow, null, cancellationToken);
                    }
                    catch (WorkflowConcurrencyException) when (attempt < 5)
                    {
                        continue;
                    }
                }

                return (new PhaseRunResult(PhaseOutcome.Skipped, workflow, null, done), null);
            }

            // Refused here, before anything is taken, when the workflow cannot run a phase now.
            Steps.StartPhase(workflow, phase, steps, now, observe: false, out _);
            if (workflow is { LeaseOwner: { } holder } && holder != runner.Owner && workflow.LeaseExpiresAt > now)
            {
                if (WorkerIdentity.Liveness(holder) != OwnerLiveness.Dead)
                {
                    throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                        $"Workflow '{workflow.Id}' runs phase '{workflow.CurrentNode}' in another process now (lease until {workflow.LeaseExpiresAt:O}); run phase '{phase.Name}' once it has finished.");
                }

                await Store.ReleaseLeaseAsync(workflow.Id, holder, cancellationToken);
            }

            var claimed = await Store.ClaimWorkflowAsync(workflow.Id, runner.Owner, Options.LeaseDuration, cancellationToken);
            if (claimed is null)
            {
                // Someone took it between our read and our claim: look again.
                continue;
            }

            try
            {
                var plan = Steps.StartPhase(claimed, phase, steps, Clock.GetStoreNow(), Observers.HasObservers, out var start);
                if (claimed.CurrentNode == phase.Name && claimed.Status is WorkflowStatus.Running or WorkflowStatus.Waiting)
                {
                    await runner.StopLeftoverProcessesAsync(claimed, plan);
                }

                var committed = await runner.CommitPlanAsync(plan, claimed);
                return (null, start with { Workflow = committed });
            }
            catch (WorkflowConcurrencyException) when (attempt < 5)
            {
                await Store.ReleaseLeaseAsync(workflowId, runner.Owner, CancellationToken.None);
            }
            catch
            {
                await Store.ReleaseLeaseAsync(workflowId, runner.Owner, CancellationToken.None);
                throw;
            }
        }
    }

    /// <summary>The workflow types a worker of this engine claims: its definitions', and those of phase workflows in flight when it runs phases.</summary>
    internal async Task<IReadOnlyList<string>> ClaimTypesAsync(CancellationToken cancellationToken)
    {
        var types = Definitions.Types;
        if (PhaseNodes is null)
        {
            return types;
        }

        var now = Clock.GetUtcNow();
        var known = Volatile.Read(ref _phaseTypes);
        if (known is null || now - known.At >= PhaseTypesRefresh)
        {
            var inFlight = await Store.ListValuesAsync(PhaseWorkflows.Namespace, cancellationToken);
            known = new PhaseTypes(now, [.. inFlight.Select(e => PhaseSpec.FromValue(e.Value)?.Type).OfType<string>().Distinct(StringComparer.Ordinal)]);
            Volatile.Write(ref _phaseTypes, known);
        }

        return known.Types.Length == 0 ? types : [.. types.Union(known.Types, StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>The one-node definition that runs a phase workflow's phase in flight, and that phase; null when none is recorded at its node.</summary>
    internal async Task<(WorkflowDefinition Definition, PhaseSpec Phase)?> ResolvePhaseAsync(WorkflowRecord workflow, CancellationToken cancellationToken)
    {
        if (PhaseNodes is not { } factory ||
            await Store.GetValueAsync(PhaseWorkflows.Namespace, workflow.Id, cancellationToken) is not { } entry ||
            PhaseSpec.FromValue(entry.Value) is not { } recorded || recorded.Phase.Name != workflow.CurrentNode)
        {
            return null;
        }

        var phase = recorded.Phase;
        var definition = new WorkflowBuilder(workflow.Type).Node(phase.Name, factory.Create(workflow, phase)).WithRetry(phase.Retry).Build();
        return (definition, phase);
    }

    private static async Task StopNowAsync(WorkflowRunner runner)
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        await runner.StopAsync(now.Token);
    }

    private sealed record PhaseTypes(DateTimeOffset At, string[] Types);
}
