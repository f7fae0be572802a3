using Ratchet.Engine;
using Ratchet.Yaml.Tests;

namespace Ratchet.Hosting.Tests;

/// <summary>Cleanup, summaries, export and import as every screen gets them from the host.</summary>
public sealed class StoreMaintenanceTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task CleanupAsync_InterruptedPhaseWorkflowOnceCancelled_DeletesItWithItsRunFolderAndPhaseRecord()
    {
        await using var host = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database, LoadRecordedDefinitions = false });
        await host.Phases.CreateWorkflowAsync("fix", "fix-1", new Dictionary<string, string>());
        using (var stop = new CancellationTokenSource())
        {
            var run = host.Phases.RunAsync("fix-1", new PhaseRequest { Name = "slow", CommandLine = "touch started; sleep 30", WorkingDirectory = _scratch.Path }, cancellationToken: stop.Token);
            for (var i = 0; i < 400 && !File.Exists(_scratch.File("started")); i++)
            {
                await Task.Delay(25);
            }

            await stop.CancelAsync();
            Assert.Equal(PhaseOutcome.Interrupted, (await run).Outcome);
        }

        Assert.NotNull(await host.Store.GetValueAsync(PhaseWorkflows.Namespace, "fix-1"));
        await host.Engine.CancelAsync("fix-1", "not needed");
        var dry = await host.Maintenance.CleanupAsync(new CleanupOptions { DryRun = true, OlderThan = TimeSpan.Zero });
        Assert.True(Directory.Exists(host.Folders.RunFolder("fix-1")));

        var report = await host.Maintenance.CleanupAsync(new CleanupOptions { OlderThan = TimeSpan.Zero });

        Assert.Equal(["fix-1"], dry.Workflows.Select(w => w.Id));
        Assert.Equal(["fix-1"], report.Workflows.Select(w => w.Id));
        Assert.Null(await host.Store.GetWorkflowAsync("fix-1"));
        Assert.Null(await host.Store.GetValueAsync(PhaseWorkflows.Namespace, "fix-1"));
        Assert.False(Directory.Exists(host.Folders.RunFolder("fix-1")));
    }

    [Fact]
    public async Task CleanupAsync_WithoutOlderThan_RemovesEndedWorkspacesAndDeletesNoWorkflow()
    {
        var file = _scratch.Write("iso.yaml", "name: iso\nworkspace: isolated\nnodes:\n  a: { run: echo made > made.txt }\n  b: { run: exit 1 }\n");
        await using var host = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database, WorkflowFile = file });
        await host.Engine.StartAsync("iso", options: new StartOptions { Id = "iso-1" });
        await host.Engine.CreateRunner().RunUntilIdleAsync();
        var workspace = Path.Combine(host.Folders.Workspaces, "iso-1");
        Assert.True(File.Exists(Path.Combine(workspace, "made.txt")));

        var report = await host.Maintenance.CleanupAsync(new CleanupOptions());

        Assert.Equal([("iso-1", WorkflowStatus.Failed)], report.Workspaces.Select(r => (r.Workflow.Id, r.Workflow.Status)));
        Assert.Empty(report.Workflows);
        Assert.Null(report.DeletedBefore);
        Assert.False(Directory.Exists(workspace));
        Assert.NotNull(await host.Store.GetWorkflowAsync("iso-1"));
    }

    [Fact]
    public async Task SummarizeAsync_ApprovalWorkflow_HasTheRenderedPromptItsJournalAndCommands()
    {
        var file = _scratch.Write("ask.yaml", "name: ask\ninputs:\n  who: string\nnodes:\n  a: { run: echo a }\n  ask: { approval: \"Ship it, {{ inputs.who }}?\" }\n");
        await using var host = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database, WorkflowFile = file });
        await host.Engine.StartAsync("ask", new Dictionary<string, string> { ["who"] = "Ann" }, new StartOptions { Id = "ask-1" });
        await host.Engine.CreateRunner().RunUntilIdleAsync();

        var summary = await host.Maintenance.SummarizeAsync("ask-1");

        Assert.Equal("Ship it, Ann?", summary.ApprovalPrompt);
        Assert.Equal(["a"], summary.Steps.Select(s => s.Node));
        Assert.Equal("echo a", Assert.Single(summary.Commands).CommandLine);
        Assert.False(summary.RunByPhases);
        Assert.Null(summary.Workspace);
    }

    [Fact]
    public async Task Export_JsonLinesReadBackIntoAFreshStore_ReproducesTheStore()
    {
        await using var host = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database, LoadRecordedDefinitions = false });
        await host.Phases.CreateWorkflowAsync("fix", "fix-9", new Dictionary<string, string> { ["issue"] = "9" });
        await host.Phases.RunAsync("fix-9", new PhaseRequest { Name = "plan", CommandLine = "echo plan", WorkingDirectory = _scratch.Path });
        var snapshot = await host.Maintenance.ExportAsync();
        await StoreMaintenance.WriteFileAsync(_scratch.File("export.jsonl"), snapshot, ExportFormat.JsonLines);

        var read = await StoreMaintenance.ReadExportAsync(await File.ReadAllTextAsync(_scratch.File("export.jsonl")), "export.jsonl");
        var fresh = StoreProviders.Default.Parse("sqlite:" + _scratch.File("fresh/x.db"));
        await using var copy = await fresh.OpenAsync(new StoreOpenSettings());
        var maintenance = new StoreMaintenance(copy, RatchetFolders.Of(fresh));
        await maintenance.ImportAsync(read, merge: false);

        using var original = new StringWriter();
        using var copied = new StringWriter();
        await StoreMaintenance.WriteAsync(original, snapshot, ExportFormat.Json);
        await StoreMaintenance.WriteAsync(copied, await maintenance.ExportAsync(), ExportFormat.Json);
        Assert.Equal(original.ToString(), copied.ToString());
        await Assert.ThrowsAsync<StoreNotEmptyException>(() => maintenance.ImportAsync(read, merge: false));
    }

    [Fact]
    public async Task ReadExportAsync_LineThatIsNoRecord_SaysWhichLine()
    {
        var refused = await Assert.ThrowsAsync<InvalidExportException>(() =>
            StoreMaintenance.ReadExportAsync("{\"kind\":\"ratchet-export\",\"formatVersion\":1}\n{\"kind\":\"spaceship\"}\n", "x.jsonl"));

        Assert.StartsWith("Line 2 of x.jsonl is not a Ratchet export record: unknown kind 'spaceship'", refused.Message, StringComparison.Ordinal);
    }
}
