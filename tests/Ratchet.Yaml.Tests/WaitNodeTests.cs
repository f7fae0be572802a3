using Ratchet.Engine;

namespace Ratchet.Yaml.Tests;

/// <summary>The <c>sleep:</c> and <c>wait:</c> verbs: what they compile to, and what they refuse.</summary>
public sealed class WaitNodeTests
{
    [Fact]
    public void Compile_SleepAndWaits_BecomeDelayAndSignalNodes()
    {
        var file = WorkflowFileParser.Parse("""
            name: waits
            nodes:
              nap:
                sleep: 1h30m
              later:
                wait: { until: "{{ inputs.at }}" }
              ci:
                wait: { signal: ci-finished, timeout: 2h }
                on: { timeout: gave_up }
              done:
                run: echo done
                next: end
              gave_up:
                run: echo gave up
            """, "waits.yaml");
        var definition = WorkflowCompiler.Compile(file, new ShellOptions(), _ => throw new InvalidOperationException("no children"))[0].Definition;

        Assert.Equal(TimeSpan.FromMinutes(90), Assert.IsType<DelayNodeDefinition>(definition["nap"]).Delay);
        Assert.Equal("{{ inputs.at }}", Assert.IsType<DelayNodeDefinition>(definition["later"]).Until);
        var ci = Assert.IsType<SignalNodeDefinition>(definition["ci"]);
        Assert.Equal(("ci-finished", TimeSpan.FromHours(2), "gave_up", "done"), (ci.SignalName, ci.Timeout, ci.Transitions[WorkflowDefinition.TimedOut], ci.Next));
        Assert.Contains("ci: signal ci-finished (timeout 2h)", definition.ToMermaid(), StringComparison.Ordinal);
        Assert.Contains("[/\"nap: sleep 90m\"/]", definition.ToMermaid(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wait: { signal: ci, until: \"2026-01-01T00:00:00Z\" }", "needs exactly one of 'until'")]
    [InlineData("wait: { until: tomorrow }", "not an ISO-8601 time")]
    [InlineData("wait: { until: \"2026-01-01T00:00:00Z\", timeout: 1h }", "applies to a wait for a signal")]
    [InlineData("wait: ci", "must be a mapping")]
    [InlineData("sleep: soon", "not a duration")]
    public void Parse_BadWait_RefusedWithTheReason(string node, string reason)
    {
        var error = Assert.Throws<WorkflowFileException>(() => WorkflowFileParser.Parse($"name: bad\nnodes:\n  w:\n    {node}\n", "bad.yaml"));

        Assert.Contains(error.Problems, p => p.Message.Contains(reason, StringComparison.Ordinal));
    }
}
