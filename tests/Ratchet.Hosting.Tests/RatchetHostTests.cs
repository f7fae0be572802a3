using Ratchet.Engine;
using Ratchet.Yaml.Tests;

namespace Ratchet.Hosting.Tests;

/// <summary>
/// The host every screen builds in one call, built here the way <c>ratchet run</c> builds it (store URI, loggers, the
/// file being run, trace files), running a YAML workflow to its end on SQLite.
/// </summary>
public sealed class RatchetHostTests : IDisposable
{
    private const string Flow = """
        name: greet
        inputs:
          who: string
        nodes:
          hello:
            run: echo hello {{ inputs.who }}
          shout:
            run: echo "$RATCHET_INPUT_WHO" | tr a-z A-Z
        """;

    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task OpenAsync_WithAWorkflowFile_RunsItToCompletionOnSqlite()
    {
        var file = _scratch.Write("flow.yaml", Flow);
        await using (var host = await RatchetHost.OpenAsync(new RatchetHostOptions
        {
            Store = "sqlite:" + _scratch.Database,
            WorkflowFile = file,
            TracesDirectory = _scratch.File("traces"),
        }))
        {
            Assert.Equal("greet", Assert.Single(host.Compiled).Definition.Name);
            await host.Engine.StartAsync("greet", new Dictionary<string, string> { ["who"] = "world" }, new StartOptions { Id = "greet-1" });
            await host.Engine.CreateRunner().RunUntilIdleAsync();

            var done = await host.Store.GetRequiredWorkflowAsync("greet-1");
            Assert.Equal(WorkflowStatus.Completed, done.Status);
            Assert.Equal(("hello world", "WORLD"), (done.Artifacts["hello"].GetString(), done.Artifacts["shout"].GetString()));
            Assert.Equal(_scratch.File("runs"), host.Folders.Runs);
            Assert.True(File.Exists(Path.Combine(host.Folders.RunFolder("greet-1"), "logs", "hello.log")));
        }

        // The trace file is complete once the host (and the engine's observers) have stopped.
        var trace = await File.ReadAllLinesAsync(_scratch.File("traces/greet-1.jsonl"));
        Assert.Contains(trace, l => l.Contains("\"type\":\"status-changed\"", StringComparison.Ordinal) && l.Contains("\"to\":\"Completed\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenAsync_WithoutTheFile_KnowsTheDefinitionARunStartedWith()
    {
        var file = _scratch.Write("flow.yaml", Flow);
        await using (var first = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database, WorkflowFile = file }))
        {
            await first.Engine.StartAsync("greet", new Dictionary<string, string> { ["who"] = "later" }, new StartOptions { Id = "greet-2" });
        }

        // The file changes on disk; the workflow runs the definition it started with.
        File.WriteAllText(file, Flow.Replace("echo hello", "echo goodbye", StringComparison.Ordinal));
        await using var second = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database });
        Assert.Contains("greet", second.Engine.Definitions.Types);
        await second.Engine.CreateRunner().RunUntilIdleAsync();

        var done = await second.Store.GetRequiredWorkflowAsync("greet-2");
        Assert.Equal((WorkflowStatus.Completed, "hello later"), (done.Status, done.Artifacts["hello"].GetString()));
    }

    [Fact]
    public async Task OpenAsync_UnsupportedStore_OpensNothingAndSaysWhatToWrite()
    {
        var refused = await Assert.ThrowsAsync<InvalidStoreUriException>(() => RatchetHost.OpenAsync(new RatchetHostOptions { Store = "mysql://u:secret@db/x" }));

        Assert.StartsWith("The store URI 'mysql://u:***@db/x' is not supported; use sqlite:PATH", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", refused.Message, StringComparison.Ordinal);
    }
}
