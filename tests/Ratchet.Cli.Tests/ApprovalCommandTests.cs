namespace Ratchet.Cli.Tests;

/// <summary>Approval nodes: exit 3 while waiting, then <c>approve</c> or <c>reject</c>, each in a new process.</summary>
public sealed class ApprovalCommandTests : IDisposable
{
    private const string Flow = """
        name: release
        nodes:
          build:
            run: echo built >> marks.txt
          ask:
            approval: Ship the release?
          ship:
            run: echo shipped >> marks.txt
        """;

    private readonly CliSandbox _sandbox = new();

    public ApprovalCommandTests()
    {
        _sandbox.Write("release.yaml", Flow);
    }

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Approve_WorkflowWaitingForApproval_RunsItToCompletion()
    {
        var waiting = await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-1");
        var shown = await _sandbox.RunAsync("state", "show", "rel-1");
        var approved = await _sandbox.RunAsync("approve", "rel-1", "--comment", "go", "--by", "alice");

        Assert.True(waiting.ExitCode == 3, waiting.ToString());
        Assert.Equal(["built"], _sandbox.ReadLines("marks.txt").Take(1));
        Assert.Equal(
            "Workflow rel-1 waits for approval at node 'ask'. Approve it with `ratchet approve rel-1` or reject it with `ratchet reject rel-1 --comment \"...\"`.",
            Assert.Single(waiting.StdoutLines));
        Assert.Contains("ratchet approve rel-1", shown.Stdout, StringComparison.Ordinal);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal(["built", "shipped"], _sandbox.ReadLines("marks.txt"));
        var trace = await _sandbox.RunAsync("trace", "rel-1");
        var decision = Assert.Single(trace.StdoutLines, l => l.Contains("\"type\":\"approved\"", StringComparison.Ordinal));
        Assert.Contains("alice", decision, StringComparison.Ordinal);
        Assert.Contains("go", decision, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ApprovalPromptTemplate_IsShownRenderedWhileItWaitsAndByStateShow()
    {
        _sandbox.Write("pr.yaml", """
            name: pr
            inputs:
              issue: int
            nodes:
              branch:
                run: echo fix/$RATCHET_INPUT_ISSUE
              ask:
                approval: "Open a PR for #{{ inputs.issue }} from {{ artifacts.branch }}?"
            """);

        var waiting = await _sandbox.RunAsync("run", "pr.yaml", "--id", "pr-1", "--input", "issue=42");
        var shown = await _sandbox.RunAsync("state", "show", "pr-1");

        Assert.True(waiting.ExitCode == 3, waiting.ToString());
        Assert.EndsWith("pr-1 pr: ⏸ waiting for Approval: Open a PR for #42 from fix/42?", Assert.Single(waiting.StderrLines, l => l.Contains('⏸', StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("  prompt:    Open a PR for #42 from fix/42?", shown.StdoutLines);
        Assert.DoesNotContain("{{", waiting.Stderr + shown.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_WorkflowWaitingForApproval_FailsItWithExitOne()
    {
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-2");

        var rejected = await _sandbox.RunAsync("reject", "rel-2", "--comment", "too risky");

        Assert.True(rejected.ExitCode == 1, rejected.ToString());
        Assert.Equal(["built"], _sandbox.ReadLines("marks.txt"));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Failed, (await store.GetRequiredWorkflowAsync("rel-2")).Status);
        Assert.Contains(await store.GetEventsAsync("rel-2"), e => e.Type == AuditEventTypes.Rejected && e.Payload?.GetRawText().Contains("too risky", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Reject_WithoutComment_IsRefusedAndLeavesItWaiting()
    {
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-3");

        var refused = await _sandbox.RunAsync("reject", "rel-3");

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("ratchet: error[usage]: A rejection needs a reason: pass --comment \"...\".", Assert.Single(refused.StderrLines));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Waiting, (await store.GetRequiredWorkflowAsync("rel-3")).Status);
    }

    [Fact]
    public async Task Approve_CompletedWorkflow_IsRefusedWithExitTwo()
    {
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-4");
        await _sandbox.RunAsync("approve", "rel-4");

        var again = await _sandbox.RunAsync("approve", "rel-4");

        Assert.Equal(2, again.ExitCode);
        var line = Assert.Single(again.StderrLines);
        Assert.StartsWith("ratchet: error[", line, StringComparison.Ordinal);
        Assert.Contains("Completed", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_AfterTheFileChanged_RunsTheDefinitionTheWorkflowStartedWith()
    {
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-5");
        _sandbox.Write("release.yaml", Flow.Replace("echo shipped", "echo changed", StringComparison.Ordinal));
        await _sandbox.RunAsync("validate", "release.yaml");
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-6");

        var approved = await _sandbox.RunAsync("approve", "rel-5");

        Assert.True(approved.ExitCode == 0, approved.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal("shipped", (await store.GetCommandsAsync("rel-5")).Last().CommandLine.Split(' ')[1]);
    }
}
