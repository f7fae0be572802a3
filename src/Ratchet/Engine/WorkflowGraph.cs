using System.Diagnostics;
using System.Text;

namespace Ratchet.Engine;

/// <summary>Draws definitions as Mermaid flowcharts and Graphviz DOT digraphs.</summary>
public static class WorkflowGraph
{
    /// <summary>A Mermaid <c>flowchart TD</c> of the definition, with the start, ends, outcomes and failure paths.</summary>
    public static string ToMermaid(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var ids = Ids(definition);
        var text = new StringBuilder("flowchart TD\n");
        text.Append("    start((start)) --> ").Append(ids[definition.StartNode]).Append('\n');
        if (definition.Queue is { } queue)
        {
            // Where a run waits for its turn before the first node: its queue, drawn on the way in.
            text.Append("    queue[/\"queue ").Append(queue.Name).Append("\"/] -.-> start\n");
        }

        foreach (var node in definition.Nodes)
        {
            var id = ids[node.Name];
            var label = Escape(Label(node));
            text.Append("    ").Append(id).Append(node switch
            {
                ApprovalNodeDefinition => $"{{{{\"{label}\"}}}}",
                SubWorkflowNodeDefinition => $"[[\"{label}\"]]",
                SignalNodeDefinition => $"([\"{label}\"])",
                DelayNodeDefinition => $"[/\"{label}\"/]",
                ActionNodeDefinition => $"[\"{label}\"]",
                _ => throw UnknownKind(node),
            }).Append('\n');
        }

        var endUsed = false;
        var failUsed = false;
        foreach (var node in definition.Nodes)
        {
            foreach (var (outcome, target, failure) in Edges(node))
            {
                var to = target is null or WorkflowDefinition.End ? (failure || node.FailsWorkflow ? "failed" : "done") : ids[target];
                endUsed |= to == "done";
                failUsed |= to == "failed";
                var arrow = failure ? "-.->" : "-->";
                text.Append("    ").Append(ids[node.Name]).Append(' ').Append(arrow);
                if (outcome is not null)
                {
                    text.Append('|').Append(Escape(outcome)).Append('|');
                }

                text.Append(' ').Append(to).Append('\n');
            }
        }

        if (endUsed)
        {
            text.Append("    done((completed))\n");
        }

        if (failUsed)
        {
            text.Append("    failed((failed))\n");
        }

        return text.ToString();
    }

    /// <summary>A Graphviz <c>digraph</c> of the definition.</summary>
    public static string ToDot(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var text = new StringBuilder();
        text.Append("digraph \"").Append(Quote(definition.Name)).Append("\" {\n");
        text.Append("    rankdir=TB;\n    node [shape=box, style=rounded];\n");
        text.Append("    \"$start\" [shape=circle, label=\"start\"];\n");
        if (definition.Queue is { } queue)
        {
            text.Append("    \"$queue\" [shape=parallelogram, label=\"queue ").Append(Quote(queue.Name)).Append("\"];\n");
            text.Append("    \"$queue\" -> \"$start\" [style=dashed];\n");
        }

        text.Append("    \"$start\" -> \"").Append(Quote(definition.StartNode)).Append("\";\n");
        foreach (var node in definition.Nodes)
        {
            var shape = node switch
            {
                ApprovalNodeDefinition => "hexagon",
                SubWorkflowNodeDefinition => "box3d",
                SignalNodeDefinition => "ellipse",
                DelayNodeDefinition => "parallelogram",
                ActionNodeDefinition => "box",
                _ => throw UnknownKind(node),
            };
            text.Append("    \"").Append(Quote(node.Name)).Append("\" [shape=").Append(shape)
                .Append(", label=\"").Append(Quote(Label(node))).Append("\"];\n");
        }

        text.Append("    \"$completed\" [shape=doublecircle, label=\"completed\"];\n");
        text.Append("    \"$failed\" [shape=doublecircle, label=\"failed\"];\n");
        foreach (var node in definition.Nodes)
        {
            foreach (var (outcome, target, failure) in Edges(node))
            {
                var to = target is null or WorkflowDefinition.End ? (failure || node.FailsWorkflow ? "$failed" : "$completed") : target;
                text.Append("    \"").Append(Quote(node.Name)).Append("\" -> \"").Append(Quote(to)).Append('"');
                var attributes = new List<string>();
                if (outcome is not null)
                {
                    attributes.Add($"label=\"{Quote(outcome)}\"");
                }

                if (failure)
                {
                    attributes.Add("style=dashed");
                }

                if (attributes.Count > 0)
                {
                    text.Append(" [").Append(string.Join(", ", attributes)).Append(']');
                }

                text.Append(";\n");
            }
        }

        text.Append("}\n");
        return text.ToString();
    }

    private static IEnumerable<(string? Outcome, string? Target, bool Failure)> Edges(NodeDefinition node)
    {
        foreach (var (outcome, target) in node.Transitions.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            yield return (outcome, target, false);
        }

        if (node is ApprovalNodeDefinition { RejectionFailsWorkflow: true })
        {
            yield return (WorkflowDefinition.Rejected, null, true);
        }

        if (node is SignalNodeDefinition { TimeoutFailsNode: true })
        {
            // A timeout with no transition of its own fails the node: its failure path, else the workflow.
            yield return (WorkflowDefinition.TimedOut, node.FailureTarget, true);
        }

        yield return (node.Transitions.Count > 0 ? "else" : null, node.Next, false);
        if (node.FailureTarget is not null)
        {
            yield return ("failure", node.FailureTarget, true);
        }
    }

    private static string Label(NodeDefinition node) => node switch
    {
        ApprovalNodeDefinition approval => $"{node.Name}: {approval.Prompt}",
        SubWorkflowNodeDefinition child => $"{node.Name}: {child.ChildType}",
        SignalNodeDefinition signal => signal.Timeout is { } timeout
            ? $"{node.Name}: signal {signal.SignalName} (timeout {ShortDuration(timeout)})"
            : $"{node.Name}: signal {signal.SignalName}",
        DelayNodeDefinition { Until: { } until } => $"{node.Name}: sleep until {until}",
        DelayNodeDefinition delay => $"{node.Name}: sleep {ShortDuration(delay.Delay)}",
        ActionNodeDefinition => node.Description is null ? node.Name : $"{node.Name}: {node.Description}",
        _ => throw UnknownKind(node),
    };

    /// <summary>A wait's length as people write it: <c>90s</c>, <c>10m</c>, <c>2h</c>, <c>1d</c>, else the time span.</summary>
    private static string ShortDuration(TimeSpan span) => span switch
    {
        { Ticks: > 0 } when span.Ticks % TimeSpan.TicksPerDay == 0 => $"{span.Ticks / TimeSpan.TicksPerDay}d",
        { Ticks: > 0 } when span.Ticks % TimeSpan.TicksPerHour == 0 => $"{span.Ticks / TimeSpan.TicksPerHour}h",
        { Ticks: > 0 } when span.Ticks % TimeSpan.TicksPerMinute == 0 => $"{span.Ticks / TimeSpan.TicksPerMinute}m",
        { Ticks: > 0 } when span.Ticks % TimeSpan.TicksPerSecond == 0 => $"{span.Ticks / TimeSpan.TicksPerSecond}s",
        _ => span.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };

    // The kinds are closed (NodeDefinition cannot be derived from outside this assembly): a new one must be drawn here.
    private static UnreachableException UnknownKind(NodeDefinition node) => new($"Node '{node.Name}' is of a kind graphs do not draw: {node.GetType().Name}.");

    private static Dictionary<string, string> Ids(WorkflowDefinition definition) =>
        definition.Nodes.Select((n, i) => (n.Name, Id: $"n{i}")).ToDictionary(x => x.Name, x => x.Id, StringComparer.Ordinal);

    private static string Escape(string text) => text.Replace("\"", "#quot;", StringComparison.Ordinal);

    private static string Quote(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
