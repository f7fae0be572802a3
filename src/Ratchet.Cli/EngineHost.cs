using System.Globalization;
using Ratchet.Engine;
using Ratchet.Hosting;
using Ratchet.Storage;
using Ratchet.Yaml;
using Spectre.Console;

namespace Ratchet.Cli;

/// <summary>
/// An engine for one CLI command: the <see cref="RatchetHost"/> every screen builds (store, recorded definitions plus
/// the file being run, shell settings beside the store, workspace bookkeeping, trace files), with this command's
/// progress output and observability, and how the command follows a workflow and reports how it stands.
/// </summary>
internal sealed class EngineHost : IAsyncDisposable
{
    private EngineHost(CliContext context, RatchetHost host, ProgressObserver progress, Observability observability)
    {
        Observability = observability;
        Context = context;
        Host = host;
        Progress = progress;
    }

    private ProgressObserver Progress { get; }

    private Observability Observability { get; }

    public CliContext Context { get; }

    public RatchetHost Host { get; }

    public IRatchetStore Store => Host.Store;

    public WorkflowEngine Engine => Host.Engine;

    /// <param name="context">The command's context.</param>
    /// <param name="currentFile">A workflow file being run: compiled (with its sub-workflows) against this store and recorded.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <param name="configure">Engine options beyond the CLI's defaults.</param>
    public static async Task<EngineHost> OpenAsync(CliContext context, string? currentFile, CancellationToken cancellationToken, Action<RatchetOptions>? configure = null)
    {
        var progress = new ProgressObserver(context);
        var options = context.HostOptions();
        options.WorkflowFile = currentFile;
        options.StopGracePeriod = StopGracePeriod();
        options.ConfigureEngine = configure;
        options.Observers.Add(_ => progress);
        var observability = Observability.Attach(context, options);
        try
        {
            return new EngineHost(context, await RatchetHost.OpenAsync(options, cancellationToken), progress, observability);
        }
        catch
        {
            await observability.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="workflowId"/> (and its sub-workflows) in this process until it ends or waits for a human,
    /// then reports and returns the exit code. Ctrl-C stops its node, releases it, and says how to resume.
    /// </summary>
    public async Task<int> FollowAsync(string workflowId, CancellationToken cancellationToken)
    {
        var existing = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
        RequireRunnable(existing);
        if (!existing.IsTerminal && existing.LeaseOwner is { } owner && existing.LeaseExpiresAt > Engine.Clock.GetUtcNow() &&
            WorkerIdentity.Liveness(owner) != OwnerLiveness.Dead && !Context.Json)
        {
            // Never run it a second time: follow it, and take it over only if its owner stops holding it.
            await Context.Error.WriteLineAsync(
                $"Workflow {workflowId} is running in {Liveness.DescribeOwner(owner)} (lease until {existing.LeaseExpiresAt:HH:mm:ss}); following it here, taking it over only if that process stops.");
        }

        // Only the triggers this run fires are reported, not those of earlier transitions (a re-run of a finished id).
        var seen = (await Store.GetEventsAsync(workflowId, cancellationToken: cancellationToken)).LastOrDefault()?.Sequence ?? 0;
        var runner = Engine.CreateRunner(workflowId);
        await runner.StartAsync(cancellationToken);
        WorkflowRecord final;
        try
        {
            using var following = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var waiting = WaitShowingProgressAsync(workflowId, following.Token);
            if (await Task.WhenAny(waiting, runner.StoreFailure) != waiting)
            {
                // The store would not take the node's result, even after trying again: stop here rather than run the
                // node again and again, and say how to go on once the store works.
                await following.CancelAsync();
                await waiting.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                using var now = new CancellationTokenSource();
                await now.CancelAsync();
                await runner.StopAsync(now.Token);
                await Context.Error.WriteLineAsync($"ratchet: workflow {workflowId} is left as last committed; once the store works again, `ratchet resume {workflowId}` runs it on.");
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(await runner.StoreFailure).Throw();
            }

            final = await waiting;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync();
            await runner.StopAsync(now.Token);
            var left = await Store.GetWorkflowAsync(workflowId, CancellationToken.None);
            var line = left switch
            {
                { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Interrupted } =>
                    $"ratchet: interrupted; workflow {workflowId} is left resumable at node '{left.CurrentNode}' (attempt {left.Attempt}, no retry used): run it on with `ratchet resume {workflowId}`.",
                { IsTerminal: true } => $"ratchet: stopped following workflow {workflowId}, which is {left.Status}.",
                { LeaseOwner: { } holder } when holder != runner.Owner =>
                    $"ratchet: stopped following workflow {workflowId}; it still runs in {Liveness.DescribeOwner(holder)}.",
                _ => $"ratchet: interrupted; workflow {workflowId} is left resumable: run it on with `ratchet resume {workflowId}`.",
            };
            await Context.Error.WriteLineAsync(line);
            return ExitCodes.Interrupted;
        }

        await runner.StopAsync(CancellationToken.None);
        var exitCode = Report(final);
        await ReportTriggeredAsync(workflowId, seen, cancellationToken);
        return exitCode;
    }

    /// <summary>
    /// One line per workflow that a trigger started from this workflow's transitions since <paramref name="afterSequence"/>:
    /// this process runs only the followed workflow, so the user learns here that something else waits to run.
    /// </summary>
    private async Task ReportTriggeredAsync(string workflowId, long afterSequence, CancellationToken cancellationToken)
    {
        if (Context.Json)
        {
            return;
        }

        foreach (var fired in await Store.GetEventsAsync(workflowId, afterSequence, cancellationToken: cancellationToken))
        {
            if (fired.Type != AuditEventTypes.TriggerFired || fired.Payload is not { } payload)
            {
                continue;
            }

            var trigger = payload.GetProperty("trigger").GetString();
            var started = payload.GetProperty("workflow").GetString();
            var type = payload.GetProperty("type").GetString();
            await Context.Error.WriteLineAsync($"Trigger {trigger} started {started} (type {type}); a `ratchet worker` runs it, or `ratchet resume {started}`.");
        }
    }

    /// <summary>Waits for the workflow to end or park; on a terminal, with a live line: running node, attempt, elapsed.</summary>
    private async Task<WorkflowRecord> WaitShowingProgressAsync(string workflowId, CancellationToken cancellationToken)
    {
        var done = Engine.WaitForAsync(workflowId, static w => w.IsTerminal || w is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Approval or WaitReason.Signal } ||
            PhaseWorkflows.IsBetweenPhases(w), cancellationToken);
        if (!Context.IsTerminal || Context.Json)
        {
            return await done;
        }

        Progress.Live.IsShown = true;
        try
        {
            await Context.Console.Status().Spinner(Spectre.Console.Spinner.Known.Dots).StartAsync(Progress.Live.Render(), async status =>
            {
                while (!done.IsCompleted)
                {
                    await Task.WhenAny(done, Task.Delay(200, CancellationToken.None));
                    status.Status(Spectre.Console.Markup.Escape(Progress.Live.Render()));
                }
            });
        }
        finally
        {
            Progress.Live.IsShown = false;
        }

        return await done;
    }

    /// <summary>The environment variable that sets how long a stopped node's command may take to exit before SIGKILL.</summary>
    public const string StopGraceVariable = "RATCHET_STOP_GRACE";

    /// <summary><c>$RATCHET_STOP_GRACE</c> (a duration such as <c>10s</c> or <c>1m</c>), else 10 seconds.</summary>
    private static TimeSpan StopGracePeriod()
    {
        if (Environment.GetEnvironmentVariable(StopGraceVariable) is not { Length: > 0 } text)
        {
            return TimeSpan.FromSeconds(10);
        }

        return Durations.TryParse(text, out var grace, out var problem)
            ? grace
            : throw new UsageException($"{StopGraceVariable}={text}: {problem}; write a duration such as 10s or 1m.");
    }

    /// <summary>
    /// A workflow run by <c>ratchet phase</c> pipelines has no definition: only its pipeline can go on with it, unless a
    /// phase of it is in flight (killed, interrupted or waiting for its retry), which resuming runs on.
    /// </summary>
    public static void RequireRunnable(WorkflowRecord workflow)
    {
        if (workflow.DefinitionVersion.Length == 0 || (PhaseWorkflows.IsPhaseWorkflow(workflow) && !PhaseWorkflows.HasPhaseInFlight(workflow)))
        {
            throw RunByPhases(workflow);
        }
    }

    /// <summary>A workflow run by phases is retried by its pipeline (the failed phase runs again), not by <c>ratchet retry</c>.</summary>
    public static void RequireDefinition(WorkflowRecord workflow)
    {
        if (workflow.DefinitionVersion.Length == 0 || PhaseWorkflows.IsPhaseWorkflow(workflow))
        {
            throw RunByPhases(workflow);
        }
    }

    private static UsageException RunByPhases(WorkflowRecord workflow) => new(
        $"Workflow {workflow.Id} ({workflow.Type}) is run by `ratchet phase` pipelines and has no definition to run; re-run its pipeline with `ratchet state new --type {workflow.Type} --id {workflow.Id} | ...` to go on from its last completed phase.");

    /// <summary>
    /// Prints how a workflow stands and returns the matching exit code: 0 completed, 1 failed or cancelled, 3 waiting for
    /// a human or a signal, and 0 for a workflow that goes on without one (pending, running, in a retry back-off or
    /// waiting for a sub-workflow): that is where a <c>--detach</c> command leaves it, having done what was asked.
    /// </summary>
    public int Report(WorkflowRecord workflow)
    {
        if (Context.Json)
        {
            Context.WriteJson(workflow);
        }
        else
        {
            var line = workflow.Status switch
            {
                WorkflowStatus.Completed => $"Workflow {workflow.Id} completed in {Elapsed(workflow)}.",
                WorkflowStatus.Failed => $"Workflow {workflow.Id} failed at node '{workflow.Error?.Node ?? workflow.CurrentNode}': {workflow.Error?.Message.TrimEnd('.')}. Retry it with `ratchet retry {workflow.Id}`.",
                WorkflowStatus.Cancelled => $"Workflow {workflow.Id} was cancelled: {workflow.Error?.Message.TrimEnd('.')}.",
                WorkflowStatus.Waiting when workflow.WaitReason == WaitReason.Approval =>
                    $"Workflow {workflow.Id} waits for approval at node '{workflow.CurrentNode}'. Approve it with `ratchet approve {workflow.Id}` or reject it with `ratchet reject {workflow.Id} --comment \"...\"`.",
                WorkflowStatus.Waiting when workflow.WaitReason == WaitReason.Signal =>
                    $"Workflow {workflow.Id} waits for the signal '{workflow.WaitDetail}' at node '{workflow.CurrentNode}'.",
                _ when PhaseWorkflows.IsBetweenPhases(workflow) =>
                    $"Workflow {workflow.Id} completed its phase '{workflow.CurrentNode}'; its pipeline runs the next one (`ratchet phase NAME --id {workflow.Id} -- COMMAND`).",
                WorkflowStatus.Waiting when workflow.WaitReason == WaitReason.Child =>
                    $"Workflow {workflow.Id} waits at node '{workflow.CurrentNode}' for its sub-workflow {workflow.WaitDetail}: a `ratchet worker` runs them, or `ratchet resume {workflow.Id}` here.",
                _ => $"Workflow {workflow.Id} goes on{(workflow.CurrentNode is null ? "" : $" at node '{workflow.CurrentNode}'")}{(workflow.WaitReason == WaitReason.Timer ? " after its retry back-off or delay" : "")}: a `ratchet worker` runs it, or `ratchet resume {workflow.Id}` here.",
            };
            Context.Output.WriteLine(line);
        }

        return workflow.Status switch
        {
            WorkflowStatus.Completed => ExitCodes.Ok,
            WorkflowStatus.Failed or WorkflowStatus.Cancelled => ExitCodes.Failed,
            WorkflowStatus.Waiting when workflow.WaitReason is WaitReason.Approval or WaitReason.Signal => ExitCodes.Waiting,
            _ => ExitCodes.Ok,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Observability.DisposeAsync();
    }

    private static string Elapsed(WorkflowRecord workflow) =>
        ((workflow.CompletedAt ?? workflow.UpdatedAt) - workflow.CreatedAt).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
}
