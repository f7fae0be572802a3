using System.Globalization;
using Ratchet.Engine;

namespace Ratchet.Cli;

/// <summary>
/// Shows progress as it happens: one line per node start and end (with attempt and time) on standard error, so that
/// standard output stays the command's result. Silent with <c>--json</c>.
/// </summary>
internal sealed class ProgressObserver(CliContext context) : IWorkflowObserver
{
    /// <summary>What is running now, for the live status line on a terminal.</summary>
    public LiveProgress Live => context.Live;

    public ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
    {
        if (context.Json)
        {
            return ValueTask.CompletedTask;
        }

        Live.Update(workflowEvent);

        var time = workflowEvent.At.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        var who = workflowEvent.WorkflowType.Length > 0 ? $"{workflowEvent.WorkflowId} {workflowEvent.WorkflowType}" : workflowEvent.WorkflowId;
        var line = workflowEvent.Kind switch
        {
            WorkflowEventKind.Started => $"{time} {who}: started",
            WorkflowEventKind.NodeStarted => $"{time} {who}: ▶ {workflowEvent.Node} (attempt {workflowEvent.Attempt})",
            WorkflowEventKind.NodeCompleted => $"{time} {who}: ✔ {workflowEvent.Node} in {Seconds(workflowEvent.Duration)}",
            WorkflowEventKind.NodeFailed => $"{time} {who}: ✘ {workflowEvent.Node} (attempt {workflowEvent.Attempt}) after {Seconds(workflowEvent.Duration)}: {workflowEvent.Error?.Message}",
            WorkflowEventKind.RetryScheduled => $"{time} {who}: ↻ {workflowEvent.Node} again as attempt {workflowEvent.Attempt} at {workflowEvent.DueAt?.ToLocalTime():HH:mm:ss}",
            WorkflowEventKind.Waiting => $"{time} {who}: ⏸ waiting for {workflowEvent.WaitReason}{(workflowEvent.Message is null ? "" : $": {workflowEvent.Message}")}",
            WorkflowEventKind.Progress => $"{time} {who}: … {workflowEvent.Node}: {workflowEvent.Message}",
            WorkflowEventKind.Completed => $"{time} {who}: completed",
            WorkflowEventKind.Failed => $"{time} {who}: failed: {workflowEvent.Error?.Message}",
            WorkflowEventKind.Cancelled => $"{time} {who}: cancelled",
            WorkflowEventKind.Recovered => $"{time} {who}: recovered; {workflowEvent.Node} runs again as attempt {workflowEvent.Attempt}",
            _ => null,
        };
        if (line is not null)
        {
            context.WriteErrorLine(line);
        }

        return ValueTask.CompletedTask;
    }

    private static string Seconds(TimeSpan? duration) =>
        (duration ?? TimeSpan.Zero).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s";
}

/// <summary>The node running now and since when: the live status line shows it with a ticking clock.</summary>
internal sealed class LiveProgress
{
    private readonly object _gate = new();
    private string _text = "starting";
    private DateTimeOffset _since = TimeProvider.System.GetUtcNow();

    public bool IsShown { get; set; }

    public void Update(WorkflowEvent workflowEvent)
    {
        lock (_gate)
        {
            switch (workflowEvent.Kind)
            {
                case WorkflowEventKind.NodeStarted:
                    _text = $"{workflowEvent.WorkflowId} ▶ {workflowEvent.Node} (attempt {workflowEvent.Attempt})";
                    _since = workflowEvent.At;
                    break;
                case WorkflowEventKind.RetryScheduled:
                    _text = $"{workflowEvent.WorkflowId} ↻ {workflowEvent.Node}: attempt {workflowEvent.Attempt} at {workflowEvent.DueAt?.ToLocalTime():HH:mm:ss}";
                    _since = workflowEvent.At;
                    break;
                case WorkflowEventKind.Waiting:
                    _text = $"{workflowEvent.WorkflowId} ⏸ waiting for {workflowEvent.WaitReason}";
                    _since = workflowEvent.At;
                    break;
            }
        }
    }

    public string Render()
    {
        lock (_gate)
        {
            var elapsed = TimeProvider.System.GetUtcNow() - _since;
            return $"{_text}  {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s";
        }
    }
}
