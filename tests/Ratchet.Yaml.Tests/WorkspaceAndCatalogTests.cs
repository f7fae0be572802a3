namespace Ratchet.Yaml.Tests;

/// <summary>Isolated workspaces (plain directories and git worktrees) and the recorded definitions runs keep.</summary>
public sealed class WorkspaceAndCatalogTests : IDisposable
{
    private const string IsolatedFlow = """
        name: isolated
        workspace: isolated
        nodes:
          where:
            run: pwd; echo "$RATCHET_WORKSPACE"; ls -a
          write:
            run: echo made > made.txt; cat made.txt
        """;

    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Run_IsolatedWorkspaceOutsideGit_RunsInItsOwnPlainDirectory()
    {
        await using var run = await YamlRun.StartAsync(_scratch, _scratch.Write("flow.yaml", IsolatedFlow));

        var first = await run.RunWithIdAsync("iso-1");
        var second = await run.RunWithIdAsync("iso-2");

        var workspace = Path.Combine(_scratch.File("workspaces"), "iso-1");
        Assert.Equal(WorkflowStatus.Completed, first.Status);
        var lines = first.Artifacts["where"].GetString()!.Split('\n');
        Assert.Equal((workspace, workspace), (lines[0], lines[1]));
        Assert.DoesNotContain(".git", lines);
        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(workspace, "made.txt")));
        Assert.False(File.Exists(_scratch.File("made.txt")));
        Assert.True(File.Exists(Path.Combine(_scratch.File("workspaces"), "iso-2", "made.txt")));
        Assert.Equal(WorkflowStatus.Completed, second.Status);

        var record = await run.Store.GetWorkspaceAsync("iso-1");
        Assert.NotNull(record);
        Assert.Equal((workspace, WorkspaceStatus.Active), (record.Path, record.Status));
        Assert.Equal(workspace, (await run.Store.GetCommandsAsync("iso-1"))[0].WorkingDirectory);
    }

    [Fact]
    public async Task Run_IsolatedWorkspaceInsideGitRepository_RunsInAGitWorktreeOfHead()
    {
        var repository = _scratch.File("repo");
        Directory.CreateDirectory(repository);
        await Probe.GitAsync(repository, "init", "-q");
        _scratch.Write("repo/tracked.txt", "committed content\n");
        var flow = _scratch.Write("repo/flow.yaml", IsolatedFlow.Replace("run: pwd; echo \"$RATCHET_WORKSPACE\"; ls -a", "run: pwd; git rev-parse --is-inside-work-tree; cat tracked.txt; test -f .git && echo git-file", StringComparison.Ordinal));
        await Probe.GitAsync(repository, "add", ".");
        await Probe.GitAsync(repository, "commit", "-q", "-m", "initial");
        _scratch.Write("repo/tracked.txt", "uncommitted change\n");

        await using var run = await YamlRun.StartAsync(_scratch, flow);
        var workflow = await run.RunWithIdAsync("git-1");

        var workspace = Path.Combine(_scratch.File("workspaces"), "git-1");
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal($"{workspace}\ntrue\ncommitted content\ngit-file", workflow.Artifacts["where"].GetString());
        Assert.Equal("uncommitted change\n", await File.ReadAllTextAsync(_scratch.File("repo/tracked.txt")));
        Assert.False(File.Exists(_scratch.File("repo/made.txt")));

        var record = await run.Store.GetWorkspaceAsync("git-1");
        Assert.NotNull(record);
        Assert.True(await Workspaces.RemoveAsync(record));
        Assert.False(Directory.Exists(workspace));
    }

    [Fact]
    public async Task Run_SharedWorkspace_RunsInTheFilesDirectoryWithoutAWorkspaceRecord()
    {
        await using var run = await YamlRun.StartAsync(_scratch, _scratch.Write("flow.yaml", "name: shared\nnodes:\n  where: { run: pwd }\n"));

        var workflow = await run.RunWithIdAsync("shared-1");

        Assert.Equal(_scratch.Path, workflow.Artifacts["where"].GetString());
        Assert.Null(await run.Store.GetWorkspaceAsync("shared-1"));
    }

    [Fact]
    public async Task LoadAll_AfterTheFileChanged_CompilesTheRecordedTextAtItsVersion()
    {
        var path = _scratch.Write("flow.yaml", "name: catalog\nnodes:\n  say: { run: echo original }\n");
        _scratch.Write("child.yaml", "name: catalog-child\nnodes:\n  work: { run: echo child-original }\n");
        var withChild = _scratch.Write("parent.yaml", "name: catalog-parent\nnodes:\n  call: { workflow: child.yaml }\n");
        var options = new ShellOptions { RunsDirectory = _scratch.File("runs") };
        var original = WorkflowCompiler.Load(path, options);
        var parent = WorkflowCompiler.Load(withChild, options);
        await using (var run = await YamlRun.StartAsync(_scratch, path, original))
        {
            await DefinitionCatalog.SaveAsync(run.Store, original);
            await DefinitionCatalog.SaveAsync(run.Store, parent);

            _scratch.Write("flow.yaml", "name: catalog\nnodes:\n  say: { run: echo changed }\n  more: { run: echo more }\n");
            _scratch.Write("child.yaml", "name: catalog-child\nnodes:\n  work: { run: echo child-changed }\n");
            var loaded = await DefinitionCatalog.LoadAllAsync(run.Store, options);

            var recorded = Assert.Single(loaded, c => c.Definition.Name == "catalog");
            Assert.Equal(original[0].Definition.Version, recorded.Definition.Version);
            Assert.Equal(["say"], recorded.File.Nodes.Select(n => n.Name));
            Assert.Equal("echo original", Assert.IsType<RunNodeSpec>(recorded.File.Nodes[0]).Command);
            Assert.Equal("echo child-original", Assert.IsType<RunNodeSpec>(Assert.Single(loaded, c => c.Definition.Name == "catalog-child").File.Nodes[0]).Command);
            Assert.NotEqual(original[0].Definition.Version, WorkflowCompiler.Load(path, options)[0].Definition.Version);
        }
    }

    [Fact]
    public async Task Save_TwoTextsDifferingOnlyInACommand_KeepsBothRecorded()
    {
        var path = _scratch.Write("flow.yaml", "name: same-shape\nnodes:\n  say: { run: echo first }\n");
        var options = new ShellOptions();
        var first = WorkflowCompiler.Load(path, options);
        _scratch.Write("flow.yaml", "name: same-shape\nnodes:\n  say: { run: echo second }\n");
        var second = WorkflowCompiler.Load(path, options);
        await using var run = await YamlRun.StartAsync(_scratch, path, second);

        await DefinitionCatalog.SaveAsync(run.Store, first);
        await DefinitionCatalog.SaveAsync(run.Store, second);
        var loaded = await DefinitionCatalog.LoadAllAsync(run.Store, options);

        Assert.Equal(["echo first", "echo second"], loaded.Select(c => Assert.IsType<RunNodeSpec>(c.File.Nodes[0]).Command).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Run_ResumedAfterTheFileChanged_KeepsTheDefinitionItStartedWith()
    {
        var path = _scratch.Write("flow.yaml", """
            name: keeps
            nodes:
              ask: { approval: go on? }
              say: { run: echo original }
            """);
        string id;
        string version;
        await using (var first = await YamlRun.StartAsync(_scratch, path))
        {
            await DefinitionCatalog.SaveAsync(first.Store, first.Compiled);
            var waiting = await first.RunAsync();
            Assert.Equal(WorkflowStatus.Waiting, waiting.Status);
            (id, version) = (waiting.Id, waiting.DefinitionVersion);
        }

        _scratch.Write("flow.yaml", """
            name: keeps
            nodes:
              ask: { approval: go on? }
              say: { run: echo changed }
            """);
        var changed = WorkflowCompiler.Load(path, new ShellOptions());
        IReadOnlyList<CompiledWorkflow> recorded;
        await using (var store = await Ratchet.Sqlite.SqliteRatchetStore.OpenAsync(new Ratchet.Sqlite.SqliteStoreOptions { Path = _scratch.Database }))
        {
            recorded = await DefinitionCatalog.LoadAllAsync(store, new ShellOptions { RunsDirectory = _scratch.File("runs") });
        }

        await using var second = await YamlRun.StartAsync(_scratch, path, [.. recorded, .. changed]);
        await second.Engine.ApproveAsync(id, "tester");
        var done = await second.WaitAsync(id);

        Assert.Equal((WorkflowStatus.Completed, version), (done.Status, done.DefinitionVersion));
        Assert.Equal("original", done.Artifacts["say"].GetString());
        Assert.NotEqual(version, changed[0].Definition.Version);
        var fresh = await second.RunAsync();
        await second.Engine.ApproveAsync(fresh.Id, "tester");
        Assert.Equal("changed", (await second.WaitAsync(fresh.Id)).Artifacts["say"].GetString());
    }
}
