using System.Globalization;
using System.Text;

namespace Ratchet.GitHub;

/// <summary>
/// Renders a workflow's progress comment from its record and audit trail, both read from the store, so the comment is
/// right after a restart and however many events were coalesced into one edit.
/// </summary>
internal static class ProgressComment
{
    public const string Completed = "✅";
    public const string Running = "⏳";
    public const string Failed = "❌";
    public const string Paused = "⏸";

    /// <summary>The hidden marker that ties a comment to its workflow, for people and tools searching a thread.</summary>
    public static string Marker(string workflowId) => $"<!-- ratchet:{workflowId} -->";

    public static string Render(WorkflowRecord workflow, IReadOnlyList<AuditEvent> events)
    {
        var nodes = Nodes(events);
        var text = new StringBuilder();
        text.Append(Marker(workflow.Id)).Append('\n');
        text.Append("### ").Append(Headline(workflow)).Append(" Ratchet workflow `").Append(workflow.Id).Append("` (").Append(workflow.Type).Append(")\n\n");
        foreach (var node in nodes)
        {
            var paused = node.State == NodeState.Running && workflow.Status == WorkflowStatus.Waiting && workflow.CurrentNode == node.Name;
            var (box, icon) = node.State switch
            {
                NodeState.Completed => ("x", Completed),
                NodeState.Failed => (" ", Failed),
                _ when paused => (" ", Paused),
                _ => (" ", Running),
            };
            text.Append("- [").Append(box).Append("] ").Append(icon).Append(" **").Append(node.Name).Append("** — attempt ").Append(node.Attempt.ToString(CultureInfo.InvariantCulture));
            switch (node.State)
            {
                case NodeState.Completed:
                    text.Append(", ").Append(Seconds(node.Duration));
                    break;
                case NodeState.Failed:
                    text.Append(", failed after ").Append(Seconds(node.Duration));
                    if (node.Retrying)
                    {
                        text.Append(", will run again");
                    }

                    break;
                default:
                    text.Append(paused ? $", waiting for {workflow.WaitReason.ToString().ToLowerInvariant()}" : ", running");
                    break;
            }

            text.Append('\n');
        }

        if (workflow.IsTerminal)
        {
            text.Append('\n').Append(Summary(workflow, nodes)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The separate comment posted once when a workflow ends.</summary>
    public static string SummaryComment(WorkflowRecord workflow, IReadOnlyList<AuditEvent> events) =>
        $"{Marker(workflow.Id)}\n{Headline(workflow)} Ratchet workflow `{workflow.Id}` ({workflow.Type}): {Summary(workflow, Nodes(events))}\n";

    private static string Headline(WorkflowRecord workflow) => workflow.Status switch
    {
        WorkflowStatus.Completed => Completed,
        WorkflowStatus.Failed or WorkflowStatus.Cancelled => Failed,
        WorkflowStatus.Waiting => Paused,
        _ => Running,
    };

    private static string Summary(WorkflowRecord workflow, IReadOnlyList<NodeLine> nodes)
    {
        var elapsed = Seconds((workflow.CompletedAt ?? workflow.UpdatedAt) - workflow.CreatedAt);
        var done = nodes.Count(n => n.State == NodeState.Completed);
        var retries = nodes.Sum(n => n.Attempt - 1);
        var counts = $"{done} node{(done == 1 ? "" : "s")} completed, {retries} retr{(retries == 1 ? "y" : "ies")}";
        return workflow.Status switch
        {
            WorkflowStatus.Completed => $"**Completed** in {elapsed}: {counts}.",
            WorkflowStatus.Failed => $"**Failed** at node `{workflow.Error?.Node ?? workflow.CurrentNode}` after {elapsed}: {OneLine(workflow.Error?.Message)} ({counts}).",
            _ => $"**Cancelled** after {elapsed}: {OneLine(workflow.Error?.Message)} ({counts}).",
        };
    }

    /// <summary>One line per node in the order first reached, with its latest attempt.</summary>
    private static List<NodeLine> Nodes(IReadOnlyList<AuditEvent> events)
    {
        var lines = new List<NodeLine>();
        var byName = new Dictionary<string, NodeLine>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Node is not { } name)
            {
                continue;
            }

            if (!byName.TryGetValue(name, out var line))
            {
                if (e.Type != AuditEventTypes.NodeStarted)
                {
                    continue;
                }

                line = new NodeLine(name);
                byName[name] = line;
                lines.Add(line);
            }

            switch (e.Type)
            {
                case AuditEventTypes.NodeStarted:
                    line.State = NodeState.Running;
                    line.Attempt = e.Attempt ?? line.Attempt + 1;
                    line.StartedAt = e.At;
                    line.Retrying = false;
                    break;
                case AuditEventTypes.NodeCompleted:
                    line.State = NodeState.Completed;
                    line.Duration = e.At - line.StartedAt;
                    break;
                case AuditEventTypes.NodeFailed:
                    line.State = NodeState.Failed;
                    line.Duration = e.At - line.StartedAt;
                    break;
                case AuditEventTypes.RetryScheduled:
                    line.Retrying = true;
                    break;
            }
        }

        return lines;
    }

    private static string Seconds(TimeSpan duration) =>
        Math.Max(0, duration.TotalSeconds).ToString("0.0", CultureInfo.InvariantCulture) + "s";

    private static string OneLine(string? message) =>
        message is null ? "no reason given" : string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');

    private enum NodeState
    {
        Running,
        Completed,
        Failed,
    }

    private sealed class NodeLine(string name)
    {
        public string Name { get; } = name;

        public NodeState State { get; set; }

        public int Attempt { get; set; }

        public DateTimeOffset StartedAt { get; set; }

        public TimeSpan Duration { get; set; }

        public bool Retrying { get; set; }
    }
}
