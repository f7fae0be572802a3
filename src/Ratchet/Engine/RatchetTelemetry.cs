using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ratchet.Engine;

/// <summary>
/// Ratchet's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <c>Ratchet</c>: a span per workflow run and
/// per node attempt, counters of nodes and workflows, and duration histograms in seconds.
/// </summary>
public static class RatchetTelemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "Ratchet";

    /// <summary>Spans: <c>workflow {type}</c> per run of a workflow, <c>node {name}</c> per node attempt.</summary>
    public static readonly ActivitySource ActivitySource = new(Name, typeof(RatchetTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Counters and histograms.</summary>
    public static readonly Meter Meter = new(Name, typeof(RatchetTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> NodesStarted = Meter.CreateCounter<long>("ratchet.node.started", "{node}", "Node attempts started.");
    internal static readonly Counter<long> NodesCompleted = Meter.CreateCounter<long>("ratchet.node.completed", "{node}", "Nodes completed and committed.");
    internal static readonly Counter<long> NodesFailed = Meter.CreateCounter<long>("ratchet.node.failed", "{node}", "Node attempts that failed.");
    internal static readonly Counter<long> NodesRetried = Meter.CreateCounter<long>("ratchet.node.retried", "{node}", "Retries scheduled.");
    internal static readonly Histogram<double> NodeDuration = Meter.CreateHistogram<double>("ratchet.node.duration", "s", "How long node attempts ran.");
    internal static readonly Counter<long> WorkflowsStarted = Meter.CreateCounter<long>("ratchet.workflow.started", "{workflow}", "Workflows created.");
    internal static readonly Counter<long> WorkflowsCompleted = Meter.CreateCounter<long>("ratchet.workflow.completed", "{workflow}", "Workflows completed.");
    internal static readonly Counter<long> WorkflowsFailed = Meter.CreateCounter<long>("ratchet.workflow.failed", "{workflow}", "Workflows failed.");
    internal static readonly Histogram<double> WorkflowDuration = Meter.CreateHistogram<double>("ratchet.workflow.duration", "s", "From creation to a terminal status.");

    /// <summary>Tag names used on spans and metrics.</summary>
    public static class Tags
    {
        /// <summary>The workflow id.</summary>
        public const string WorkflowId = "ratchet.workflow.id";

        /// <summary>The workflow type.</summary>
        public const string WorkflowType = "ratchet.workflow.type";

        /// <summary>The node name.</summary>
        public const string Node = "ratchet.node";

        /// <summary>The node attempt.</summary>
        public const string Attempt = "ratchet.attempt";

        /// <summary>completed, failed, retry, waiting, cancelled, lost (another worker took over).</summary>
        public const string Outcome = "ratchet.outcome";
    }
}
