using System.Diagnostics;
using System.Text.Json;
using Ratchet.Tests.Fakes;

namespace Ratchet.Cli.Tests;

/// <summary>
/// Issue 6, points 3–5 from the command line: trace files and <c>trace --follow</c>, OTLP export (a resumed run's
/// spans join the original trace), and GitHub progress comments switched on by <c>GITHUB_TOKEN</c>.
/// </summary>
public sealed class ObservabilityTests : IDisposable
{
    // 'slow' sleeps (in a child it records) only the first time, so a test can interrupt it there and resume.
    private const string Flow = """
        name: observed
        inputs:
          repo: { type: string, default: "" }
          issue: { type: int, default: 0 }
        nodes:
          one:
            run: echo one
          slow:
            run: |-
              if [ -e interrupt ] && [ ! -e slept ]; then touch slept; sleep 30 & echo $! > sleeper.pid; wait; fi
          three:
            run: echo three
        """;

    private readonly CliSandbox _sandbox = new();

    public ObservabilityTests()
    {
        _sandbox.Write("flow.yaml", Flow);
    }

    public void Dispose()
    {
        Leftovers.KillSleeper(_sandbox);
        _sandbox.Dispose();
    }

    [Fact]
    public async Task Run_WithTraces_FileHoldsTheTraceLinesAndResumeContinuesIt()
    {
        _sandbox.Write("interrupt", "");
        using var run = _sandbox.Start(["run", "flow.yaml", "--id", "tr-1", "--traces", "traces"]);
        Assert.True(await Eventually.TrueAsync(() => File.Exists(_sandbox.File("sleeper.pid"))), $"The run never reached the slow node. {run.Stderr}");
        // Written as it happens: the slow node's start is in the file while it runs.
        Assert.True(await Eventually.TrueAsync(() => _sandbox.ReadLines("traces/tr-1.jsonl").Any(l => l.Contains("\"node-started\",\"node\":\"slow\"", StringComparison.Ordinal))));
        await run.SignalAsync("INT");
        Assert.Equal(130, (await run.WaitAsync()).ExitCode);

        var resumed = await _sandbox.Start(["resume", "tr-1"], environment: new Dictionary<string, string> { ["RATCHET_TRACES"] = "traces" }).WaitAsync();
        var trace = await _sandbox.RunAsync("trace", "tr-1");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(trace.StdoutLines, _sandbox.ReadLines("traces/tr-1.jsonl"));
        var sequences = trace.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("sequence").GetInt64()).ToArray();
        Assert.Equal(Enumerable.Range(1, sequences.Length).Select(i => (long)i), sequences);
    }

    [Fact]
    public async Task Trace_Follow_PrintsEventsUntilTheWorkflowEnds()
    {
        var created = await _sandbox.RunAsync("run", "flow.yaml", "--id", "fo-1", "--detach");
        Assert.True(created.ExitCode == 0, created.ToString());
        using var follow = _sandbox.Start(["trace", "fo-1", "--follow"]);
        var worker = await _sandbox.RunAsync("worker", "--until-idle");
        var followed = await follow.WaitAsync(TimeSpan.FromSeconds(20));
        var trace = await _sandbox.RunAsync("trace", "fo-1");

        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.True(followed.ExitCode == 0, followed.ToString());
        Assert.Equal(trace.StdoutLines, followed.StdoutLines);
        Assert.Contains("\"to\":\"Completed\"", followed.StdoutLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WithOtlpEndpoint_ExportsSpansAndMetricsAndResumedSpansJoinTheOriginalTrace()
    {
        await using var receiver = new OtlpReceiver();
        _sandbox.Write("interrupt", "");
        using var run = _sandbox.Start(["run", "flow.yaml", "--id", "ot-1", "--otlp-endpoint", receiver.Endpoint]);
        Assert.True(await Eventually.TrueAsync(() => File.Exists(_sandbox.File("sleeper.pid"))), $"The run never reached the slow node. {run.Stderr}");
        await run.SignalAsync("INT");
        Assert.Equal(130, (await run.WaitAsync()).ExitCode);
        // Flushed on the way out of the interrupted run.
        var first = receiver.Spans;
        var resumed = await _sandbox.Start(["resume", "ot-1"], environment: new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint }).WaitAsync();

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains(first, s => s.Name == "workflow observed");
        Assert.Contains(first, s => s.Name == "node one");
        var later = receiver.Spans.Skip(first.Count).ToArray();
        Assert.Contains(later, s => s.Name == "workflow observed");
        Assert.Contains(later, s => s.Name == "node three");
        var traceId = first.Single(s => s.Name == "start observed").TraceId;
        Assert.All(first.Concat(later).Where(s => s.Name.StartsWith("workflow ", StringComparison.Ordinal) || s.Name.StartsWith("node ", StringComparison.Ordinal)),
            s => Assert.Equal(traceId, s.TraceId));
        Assert.Contains("ratchet.node.completed", receiver.MetricNames);
        Assert.Contains("ratchet.node.duration", receiver.MetricNames);
    }

    [Fact]
    public async Task Run_WithGitHubToken_PostsProgressToTheIssue()
    {
        await using var github = new FakeGitHub();
        var environment = new Dictionary<string, string> { ["GITHUB_TOKEN"] = "test-token-not-a-secret" };

        var run = await _sandbox.Start(["run", "flow.yaml", "--id", "gh-1", "--input", "repo=acme/widgets", "--input", "issue=12", "--github-api-url", github.BaseUrl.AbsoluteUri], environment: environment).WaitAsync();
        var unbound = await _sandbox.Start(["run", "flow.yaml", "--id", "gh-2", "--github-api-url", github.BaseUrl.AbsoluteUri], environment: environment).WaitAsync();
        var disabled = await _sandbox.Start(["run", "flow.yaml", "--id", "gh-3", "--input", "repo=acme/widgets", "--input", "issue=13", "--no-github", "--github-api-url", github.BaseUrl.AbsoluteUri], environment: environment).WaitAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(unbound.ExitCode == 0, unbound.ToString());
        Assert.True(disabled.ExitCode == 0, disabled.ToString());
        Assert.DoesNotContain("test-token-not-a-secret", run.Stderr + run.Stdout, StringComparison.Ordinal);
        Assert.All(github.Requests, r => Assert.StartsWith("/repos/acme/widgets/issues/", r.Path, StringComparison.Ordinal));
        Assert.DoesNotContain(github.Requests, r => r.Path.Contains("/13/", StringComparison.Ordinal));
        var progress = Assert.Single(github.Comments.Values, c => c.Contains("- [", StringComparison.Ordinal));
        Assert.Contains("<!-- ratchet:gh-1 -->", progress, StringComparison.Ordinal);
        Assert.Contains("- [x] ✅ **three** — attempt 1", progress, StringComparison.Ordinal);
        Assert.Contains(github.Comments.Values, c => c.Contains("**Completed**", StringComparison.Ordinal) && !c.Contains("- [", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_GitHubUnreachable_ExitsWithTheWorkflowsCodeAndOneWarning()
    {
        // A loopback port nobody listens on: every attempt is refused at once, and the retries outlast the drain timeout.
        var api = $"http://127.0.0.1:{FakeGitHub.FreePort()}/";
        var environment = new Dictionary<string, string> { ["GITHUB_TOKEN"] = "test-token-not-a-secret" };

        var run = await _sandbox.Start(["run", "flow.yaml", "--id", "gh-down", "--input", "repo=acme/widgets", "--input", "issue=12", "--github-api-url", api], environment: environment).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("Workflow gh-down completed in ", run.StdoutLines[^1], StringComparison.Ordinal);
        var warning = Assert.Single(run.StderrLines, l => l.StartsWith("ratchet: ", StringComparison.Ordinal) && !l.StartsWith("ratchet: info", StringComparison.Ordinal));
        Assert.StartsWith("ratchet: warning: GitHub could not be reached for POST repos/acme/widgets/issues/12/comments", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("test-token-not-a-secret", run.Stderr + run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_GitHubRefusesTheFirstComment_WarnsOnceAndPostsItOnTheNextChange()
    {
        await using var github = new FakeGitHub();
        github.Fail(422);
        var environment = new Dictionary<string, string> { ["GITHUB_TOKEN"] = "test-token-not-a-secret" };

        var run = await _sandbox.Start(["run", "flow.yaml", "--id", "gh-422", "--input", "repo=acme/widgets", "--input", "issue=14", "--github-api-url", github.BaseUrl.AbsoluteUri], environment: environment).WaitAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        var warning = Assert.Single(run.StderrLines, l => l.StartsWith("ratchet: ", StringComparison.Ordinal));
        Assert.StartsWith("ratchet: warning: GitHub refused POST repos/acme/widgets/issues/14/comments with 422", warning, StringComparison.Ordinal);
        Assert.Equal(422, github.Requests[0].Status);
        Assert.Contains(github.Comments.Values, c => c.Contains("- [x] ✅ **three** — attempt 1", StringComparison.Ordinal));
    }
}
