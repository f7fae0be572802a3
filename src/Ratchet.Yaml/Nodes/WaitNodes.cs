using System.Globalization;
using Ratchet.Expressions;
using YamlDotNet.RepresentationModel;

namespace Ratchet.Yaml;

/// <summary>A <c>sleep:</c> node: a durable timer of a fixed length.</summary>
public sealed record SleepNodeSpec : NodeSpec
{
    internal SleepNodeSpec()
    {
    }

    /// <summary>How long the workflow sleeps.</summary>
    public TimeSpan Duration { get; init; }
}

/// <summary>A <c>wait:</c> node: until a time (<see cref="Until"/>) or for a signal (<see cref="Signal"/>).</summary>
public sealed record WaitNodeSpec : NodeSpec
{
    internal WaitNodeSpec()
    {
    }

    /// <summary>The time to wait until: a template rendered when the workflow reaches the node, an ISO-8601 time.</summary>
    public string? Until { get; init; }

    /// <summary>The signal to wait for; its payload becomes the node's output.</summary>
    public string? Signal { get; init; }

    /// <summary>How long to wait for the signal before the <c>timeout</c> outcome; null waits for ever.</summary>
    public TimeSpan? SignalTimeout { get; init; }
}

/// <summary>
/// Reads <c>sleep: DURATION</c> (<c>10m</c>, <c>1h30m</c>): the wake-up time is stored with the workflow, so no worker
/// holds anything while it sleeps and any worker wakes it after a restart.
/// </summary>
internal sealed class SleepNodeReader : NodeReader<SleepNodeSpec>
{
    public override string Verb => "sleep";

    public override string Summary => "a duration to sleep";

    public override NodeSpec? Read(NodeReading node) =>
        node.Yaml.Duration(node.Verb, $"'sleep' of node '{node.Name}'") is { } duration ? new SleepNodeSpec { Duration = duration } : null;

    protected override void Compile(SleepNodeSpec spec, NodeCompilation compilation) => compilation.Builder.Delay(spec.Name, spec.Duration);
}

/// <summary>
/// Reads <c>wait: { until: TIME }</c> (a template rendered to an ISO-8601 time when the workflow reaches the node) and
/// <c>wait: { signal: NAME, timeout: DURATION }</c> (the signal's payload is the output; at the timeout the node takes
/// <c>on: { timeout: ... }</c>, or fails with <c>signal-timeout</c> when there is none).
/// </summary>
internal sealed class WaitNodeReader : NodeReader<WaitNodeSpec>
{
    private static readonly string[] WaitKeys = ["until", "signal", "timeout"];

    public override string Verb => "wait";

    public override string Summary => "a time or a signal to wait for";

    public override bool Takes(TransitionKind transition) => transition is TransitionKind.Success or TransitionKind.Failure or TransitionKind.Timeout;

    public override NodeSpec? Read(NodeReading node)
    {
        var yaml = node.Yaml;
        if (node.Verb is not YamlMappingNode mapping)
        {
            yaml.Problem(node.Verb, $"'wait' of node '{node.Name}' must be a mapping with 'until' or 'signal', e.g.\n  wait:\n    signal: ci-finished\n    timeout: 2h");
            return null;
        }

        var spec = new WaitNodeSpec();
        YamlNode? timeoutAt = null;
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = WorkflowFileParser.Reader.Key(keyNode);
            switch (key)
            {
                case "until":
                    var until = yaml.Text(value, "until");
                    if (until is not null)
                    {
                        yaml.CheckTemplate(until, value, $"the time of node '{node.Name}'");
                        if (!until.Contains("{{", StringComparison.Ordinal) && !TryParseTime(until, out _))
                        {
                            yaml.Problem(value, $"'until' of node '{node.Name}' is '{until}', which is not an ISO-8601 time; write e.g. 2026-12-24T18:00:00Z or a template such as \"{{{{ inputs.at }}}}\".");
                        }
                    }

                    spec = spec with { Until = until };
                    break;
                case "signal":
                    var signal = yaml.Text(value, "signal");
                    if (signal is not null && (signal.Length == 0 || signal.Any(c => char.IsControl(c) || c is '/' or '\\') || signal.Length > 256))
                    {
                        yaml.Problem(value, $"'signal' of node '{node.Name}' is '{signal}'; a signal name is 1 to 256 characters without '/', '\\' or control characters.");
                    }

                    spec = spec with { Signal = signal };
                    break;
                case "timeout":
                    timeoutAt = value;
                    spec = spec with { SignalTimeout = yaml.Duration(value, $"'timeout' in 'wait' of node '{node.Name}'") };
                    break;
                default:
                    yaml.Unknown(keyNode, key, $"in 'wait' of node '{node.Name}'", WaitKeys);
                    break;
            }
        }

        if ((spec.Until is null) == (spec.Signal is null))
        {
            yaml.Problem(node.Verb, $"'wait' of node '{node.Name}' needs exactly one of 'until' (a time) and 'signal' (a signal's name).");
            return null;
        }

        if (spec.Until is not null && timeoutAt is not null)
        {
            yaml.Problem(timeoutAt, $"'timeout' in 'wait' of node '{node.Name}' applies to a wait for a signal, not to 'until'.");
            return null;
        }

        return spec;
    }

    protected override void Compile(WaitNodeSpec spec, NodeCompilation compilation)
    {
        var name = spec.Name;
        if (spec.Signal is { } signal)
        {
            if (spec.SignalTimeout is { } timeout)
            {
                compilation.Builder.WaitForSignal(name, signal, timeout);
            }
            else
            {
                compilation.Builder.WaitForSignal(name, signal);
            }

            return;
        }

        var until = Template.Parse(spec.Until!);
        var workspaces = compilation.WorkspacesDirectory;
        var file = compilation.File;
        compilation.Builder.DelayUntil(name, until.Text, workflow =>
        {
            var workspace = workspaces is null ? null : Path.Combine(workspaces, workflow.Id);
            var text = until.Render(StateScope.Build(workflow, name, Math.Max(1, workflow.Attempt), file, workspace, output: null)).Trim();
            return TryParseTime(text, out var time)
                ? time
                : throw new FormatException($"'until' rendered to '{text}', which is not an ISO-8601 time (e.g. 2026-12-24T18:00:00Z).");
        });
    }

    /// <summary>An ISO-8601 time; one without an offset is taken as UTC.</summary>
    internal static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out time);
}
