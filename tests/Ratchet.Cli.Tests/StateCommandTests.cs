using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary>
/// A store filled once by the CLI with one of everything: a completed workflow, a failed one (retried), one waiting for
/// approval, a phase workflow, key-value values and a checkpoint. The tests that use it only read it.
/// </summary>
public sealed class FilledStoreFixture : IAsyncLifetime
{
    internal CliSandbox Sandbox { get; } = new();

    public async Task InitializeAsync()
    {
        Sandbox.Write("ok.yaml", "name: ok\ninputs:\n  n: { type: int, default: 1 }\nnodes:\n  a:\n    run: echo {{ inputs.n }}\n");
        Sandbox.Write("bad.yaml", "name: bad\nnodes:\n  a: { run: echo broken >&2; exit 2, retry: { max_attempts: 2, delay: 10ms } }\n");
        Sandbox.Write("ask.yaml", "name: ask\nnodes:\n  ask: { approval: ok? }\n  b: { run: echo b }\n");
        Assert.Equal(0, (await Sandbox.RunAsync("run", "ok.yaml", "--id", "ok-1", "--input", "n=5")).ExitCode);
        Assert.Equal(1, (await Sandbox.RunAsync("run", "bad.yaml", "--id", "bad-1")).ExitCode);
        Assert.Equal(3, (await Sandbox.RunAsync("run", "ask.yaml", "--id", "ask-1")).ExitCode);
        Assert.Equal(0, (await Sandbox.ShellAsync("ratchet state new --type piped --id pipe-1 --input who=me | ratchet phase greet -- echo hi >/dev/null")).ExitCode);
        Assert.Equal(0, (await Sandbox.RunAsync("kv", "save", "phase", "\"building\"", "--ns", "fix-1")).ExitCode);
        Assert.Equal(0, (await Sandbox.RunAsync("kv", "checkpoint", "before", "--ns", "fix-1")).ExitCode);
    }

    public Task DisposeAsync()
    {
        Sandbox.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary><c>state list|show|export|import|backup</c> on a store the CLI filled.</summary>
public sealed class StateQueryTests(FilledStoreFixture fixture) : IClassFixture<FilledStoreFixture>
{
    private readonly CliSandbox _sandbox = fixture.Sandbox;

    [Fact]
    public async Task Export_ImportedIntoAFreshStore_ReproducesEveryWorkflowAndEvent()
    {
        var fresh = "sqlite:" + _sandbox.File("fresh/state.db");
        var lines = "sqlite:" + _sandbox.File("fresh-jsonl/state.db");

        var json = await _sandbox.RunAsync("state", "export", "--out", "export.json");
        var jsonl = await _sandbox.RunAsync("state", "export", "--format", "jsonl", "--out", "export.jsonl");
        var imported = await _sandbox.RunBareAsync("--store", fresh, "state", "import", "export.json");
        var importedLines = await _sandbox.RunBareAsync("--store", lines, "state", "import", "export.jsonl");
        var reexported = await _sandbox.RunBareAsync("--store", fresh, "state", "export");
        var reexportedLines = await _sandbox.RunBareAsync("--store", lines, "state", "export");

        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.True(jsonl.ExitCode == 0, jsonl.ToString());
        Assert.True(imported.ExitCode == 0, imported.ToString());
        Assert.True(importedLines.ExitCode == 0, importedLines.ToString());
        var original = await File.ReadAllTextAsync(_sandbox.File("export.json"));
        Assert.Equal(original.TrimEnd(), reexported.Stdout.TrimEnd());
        Assert.Equal(original.TrimEnd(), reexportedLines.Stdout.TrimEnd());

        var document = JsonDocument.Parse(original).RootElement;
        Assert.Equal(["ask-1", "bad-1", "ok-1", "pipe-1"], document.GetProperty("workflows").EnumerateArray().Select(w => w.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        foreach (var id in new[] { "ok-1", "bad-1", "ask-1", "pipe-1" })
        {
            var trace = await _sandbox.RunAsync("trace", id);
            var copied = await _sandbox.RunBareAsync("--store", fresh, "trace", id);
            Assert.NotEmpty(trace.StdoutLines);
            Assert.Equal(trace.Stdout, copied.Stdout);
        }

        var value = await _sandbox.RunBareAsync("--store", fresh, "kv", "load", "phase", "--ns", "fix-1");
        Assert.Equal("\"building\"", value.Stdout.Trim());
    }

    [Fact]
    public async Task Import_IntoAStoreThatHoldsWorkflows_IsRefusedAndChangesNothing()
    {
        await _sandbox.RunAsync("state", "export", "--out", "export.json");
        var before = (await _sandbox.RunAsync("state", "export")).Stdout;

        var refused = await _sandbox.RunAsync("state", "import", "export.json");

        Assert.Equal(2, refused.ExitCode);
        Assert.Single(refused.StderrLines);
        Assert.Equal(before, (await _sandbox.RunAsync("state", "export")).Stdout);
    }

    [Fact]
    public async Task Backup_Store_IsACopyThatOpensWithTheSameContent()
    {
        var backup = await _sandbox.RunAsync("state", "backup", _sandbox.File("backup.db"));
        var original = await _sandbox.RunAsync("state", "export");
        var copy = await _sandbox.RunBareAsync("--store", "sqlite:" + _sandbox.File("backup.db"), "state", "export");

        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Equal(original.Stdout, copy.Stdout);
    }

    [Fact]
    public async Task List_WithFilters_ShowsTheMatchingWorkflows()
    {
        var all = await _sandbox.RunAsync("state", "list", "--json");
        var failed = await _sandbox.RunAsync("state", "list", "--status", "failed", "--json");
        var active = await _sandbox.RunAsync("state", "list", "--status", "active", "--json");
        var typed = await _sandbox.RunAsync("state", "list", "--type", "ok,ask", "--json");
        var table = await _sandbox.RunAsync("state", "list");

        static string[] Ids(CliResult result) =>
            [.. JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().Select(w => w.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
        Assert.Equal(["ask-1", "bad-1", "ok-1", "pipe-1"], Ids(all));
        Assert.Equal(["bad-1"], Ids(failed));
        Assert.Equal(["ask-1", "pipe-1"], Ids(active));
        Assert.Equal(["ask-1", "ok-1"], Ids(typed));
        Assert.Equal(5, table.StdoutLines.Count);
        Assert.StartsWith("ID\tTYPE\tSTATUS", table.StdoutLines[0], StringComparison.Ordinal);
        var bad = await _sandbox.RunAsync("state", "list", "--status", "sleeping");
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public async Task Show_Workflow_PrintsStatusTimelineArtifactsAndCommands()
    {
        var failed = await _sandbox.RunAsync("state", "show", "bad-1");
        var waiting = await _sandbox.RunAsync("state", "show", "ask-1");
        var json = await _sandbox.RunAsync("state", "show", "ok-1", "--json");

        Assert.True(failed.ExitCode == 0, failed.ToString());
        Assert.StartsWith("Workflow bad-1 (bad): Failed", failed.Stdout, StringComparison.Ordinal);
        Assert.Contains("exited with code 2: broken", failed.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, failed.StdoutLines.Count(l => l.StartsWith("a\t", StringComparison.Ordinal) && l.Contains("\t2\t", StringComparison.Ordinal)));
        Assert.Contains("waiting:   for approval at 'ask'", waiting.Stdout, StringComparison.Ordinal);
        var shown = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("5", shown.GetProperty("workflow").GetProperty("artifacts").GetProperty("a").GetString());
        Assert.Equal("echo '5'", shown.GetProperty("commands")[0].GetProperty("commandLine").GetString());
        Assert.Equal(1, shown.GetProperty("steps").GetArrayLength());
    }
}

/// <summary><c>state archive</c> and <c>state cleanup</c>, which change the store: each test has its own.</summary>
public sealed class StateMaintenanceTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Archive_OldTerminalWorkflows_HidesThemFromListUnlessAll()
    {
        _sandbox.Write("done.yaml", "name: done\nnodes:\n  a: { run: echo done }\n");
        _sandbox.Write("ask.yaml", "name: ask\nnodes:\n  ask: { approval: ok? }\n  b: { run: echo b }\n");
        Assert.Equal(0, (await _sandbox.RunAsync("run", "done.yaml", "--id", "done-1")).ExitCode);
        Assert.Equal(3, (await _sandbox.RunAsync("run", "ask.yaml", "--id", "ask-1")).ExitCode);

        var archived = await _sandbox.RunAsync("state", "archive", "--older-than", "0s");
        var list = await _sandbox.RunAsync("state", "list", "--json");
        var all = await _sandbox.RunAsync("state", "list", "--all", "--json");

        Assert.True(archived.ExitCode == 0, archived.ToString());
        Assert.Equal(["ask-1"], JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Select(w => w.GetProperty("id").GetString()));
        Assert.Equal(["ask-1", "done-1"], JsonDocument.Parse(all.Stdout).RootElement.EnumerateArray().Select(w => w.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.NotNull((await store.GetRequiredWorkflowAsync("done-1")).ArchivedAt);
    }

    [Fact]
    public async Task Cleanup_FailedWorkflowsWorkspace_DryRunListsItThenRemovesIt()
    {
        _sandbox.Write("iso.yaml", "name: iso\nworkspace: isolated\nnodes:\n  a: { run: echo made > made.txt }\n  b: { run: exit 1 }\n");
        var run = await _sandbox.RunAsync("run", "iso.yaml", "--id", "iso-1");
        var workspace = _sandbox.File("workspaces/iso-1");
        Assert.Equal(1, run.ExitCode);
        Assert.True(File.Exists(Path.Combine(workspace, "made.txt")));

        var dry = await _sandbox.RunAsync("state", "cleanup", "--dry-run");
        Assert.True(Directory.Exists(workspace));
        var cleaned = await _sandbox.RunAsync("state", "cleanup");

        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"would remove workspace {workspace} of workflow iso-1 (Failed)", dry.Stdout, StringComparison.Ordinal);
        Assert.True(cleaned.ExitCode == 0, cleaned.ToString());
        Assert.Contains($"removed workspace {workspace}", cleaned.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(workspace));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkspaceStatus.Failed, (await store.GetWorkspaceAsync("iso-1"))?.Status);
        Assert.Equal(WorkflowStatus.Failed, (await store.GetRequiredWorkflowAsync("iso-1")).Status);
    }
}
