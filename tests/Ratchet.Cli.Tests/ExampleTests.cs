namespace Ratchet.Cli.Tests;

/// <summary>The workflows in examples/workflows validate and run as they are, the way the README and the files say.</summary>
public sealed class ExampleTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private static string Example(string name) => Path.Combine(CliTool.Examples, name);

    [Theory]
    [InlineData("issue-implementation.yaml")]
    [InlineData("pr-review.yaml")]
    [InlineData("bug-fix.yaml")]
    [InlineData("docs-update.yaml")]
    [InlineData("publish.yaml")]
    [InlineData("wait-for-ci.yaml")]
    [InlineData("sleep-and-retry.yaml")]
    public async Task Validate_Example_IsValid(string file)
    {
        var result = await _sandbox.RunAsync("validate", Example(file));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(": valid: workflow '", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("issue-implementation.yaml", "issue=42", "create-pr")]
    [InlineData("pr-review.yaml", "pr=7", "Responding")]
    [InlineData("docs-update.yaml", "pr=128", "announce")]
    public async Task Run_Example_Completes(string file, string input, string lastNode)
    {
        var result = await _sandbox.RunAsync("run", Example(file), "--input", input, "--id", "example-1");

        Assert.True(result.ExitCode == 0, result.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        var workflow = await store.GetRequiredWorkflowAsync("example-1");
        Assert.Equal((WorkflowStatus.Completed, lastNode), (workflow.Status, workflow.CurrentNode));
        Assert.All(await store.GetCommandsAsync("example-1"), c => Assert.Equal(0, c.ExitCode));
    }

    [Fact]
    public async Task Run_PullRequestReviewOfAQuestion_AnswersWithoutChangingCode()
    {
        var result = await _sandbox.RunAsync("run", Example("pr-review.yaml"), "--input", "pr=7", "--input", "comment=Why is this public?", "--id", "question-1");

        Assert.True(result.ExitCode == 0, result.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(["ParsingComment", "Responding"], (await store.GetStepsAsync("question-1")).Select(s => s.Node));
    }

    [Fact]
    public async Task Run_BugFixExample_LoopsOnceWaitsForApprovalThenOpensThePullRequest()
    {
        var waiting = await _sandbox.RunAsync("run", Example("bug-fix.yaml"), "--input", "issue=17", "--id", "bug-1");
        var approved = await _sandbox.RunAsync("approve", "bug-1", "--comment", "looks good");

        Assert.True(waiting.ExitCode == 3, waiting.ToString());
        Assert.Contains("ratchet approve bug-1", waiting.Stdout, StringComparison.Ordinal);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(["reproduce", "fix", "test", "fix", "test", "approve", "open-pr"], (await store.GetStepsAsync("bug-1")).Select(s => s.Node));
        var workflow = await store.GetRequiredWorkflowAsync("bug-1");
        Assert.Equal("fix/issue-17", workflow.Artifacts["open-pr"].GetProperty("branch").GetString());
    }

    [Fact]
    public async Task Run_BugFixExampleRejected_TakesTheAbandonPathAndFails()
    {
        var waiting = await _sandbox.RunAsync("run", Example("bug-fix.yaml"), "--input", "issue=18", "--id", "bug-2");
        var rejected = await _sandbox.RunAsync("reject", "bug-2", "--comment", "not this way");

        Assert.Equal(3, waiting.ExitCode);
        Assert.True(rejected.ExitCode == 1, rejected.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(["approve", "abandon"], (await store.GetStepsAsync("bug-2")).Select(s => s.Node).TakeLast(2));
    }
}

/// <summary>The CLI on the JSON-file store (<c>--store files:FOLDER</c>), end to end.</summary>
public sealed class FilesStoreCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Run_OnTheFilesStore_CompletesAndIsListed()
    {
        var store = $"files:{_sandbox.File("state")}";
        var run = await _sandbox.RunBareAsync("run", Path.Combine(CliTool.Examples, "issue-implementation.yaml"), "--input", "issue=42", "--id", "files-1", "--store", store);
        var list = await _sandbox.RunBareAsync("state", "list", "--json", "--store", store);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(_sandbox.File(Path.Combine("state", "workflows", "files-1", "state.json"))), "the workflow's folder holds its state");
        Assert.True(list.ExitCode == 0, list.ToString());
        var listed = System.Text.Json.JsonDocument.Parse(list.Stdout).RootElement;
        var workflow = Assert.Single(listed.EnumerateArray());
        Assert.Equal(("files-1", "Completed"), (workflow.GetProperty("id").GetString(), workflow.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Run_FilesStoreUriWithoutFolder_IsRefusedWithExitTwo()
    {
        var run = await _sandbox.RunBareAsync("state", "list", "--store", "files:");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("names no folder", run.Stderr, StringComparison.Ordinal);
    }
}
