using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Ratchet.Engine;
using Ratchet.Sqlite;

namespace Ratchet.Yaml.Tests;

/// <summary>A temporary directory for one test's workflow files, scripts and database, deleted at the end.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Path = Directory.CreateTempSubdirectory("ratchet-yaml-test-").FullName;
    }

    public string Path { get; }

    public string Database => File("state.db");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> (folders created) and returns the full path.</summary>
    public string Write(string name, string text)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Writes an executable POSIX shell script.</summary>
    public string Script(string name, string body)
    {
        var path = Write(name, "#!/bin/sh\n" + body);
        if (!OperatingSystem.IsWindows())
        {
            System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>
/// A workflow file compiled and registered with an engine on the scratch directory's SQLite store, with a started
/// runner: start workflows and wait for them to end (or to wait for a human).
/// </summary>
internal sealed class YamlRun : IAsyncDisposable
{
    private YamlRun(IRatchetStore store, WorkflowEngine engine, IReadOnlyList<CompiledWorkflow> compiled, ShellOptions shell)
    {
        Store = store;
        Engine = engine;
        Compiled = compiled;
        Shell = shell;
    }

    public IRatchetStore Store { get; }

    public WorkflowEngine Engine { get; }

    public IReadOnlyList<CompiledWorkflow> Compiled { get; }

    public ShellOptions Shell { get; }

    public WorkflowFile Root => Compiled[0].File;

    /// <summary>Compiles <paramref name="workflowPath"/> (or uses <paramref name="compiled"/>) and starts an engine for it (telling <paramref name="observer"/>).</summary>
    public static async Task<YamlRun> StartAsync(Scratch scratch, string workflowPath, IReadOnlyList<CompiledWorkflow>? compiled = null, Func<ShellOptions, ShellOptions>? configure = null, IWorkflowObserver? observer = null)
    {
        var store = await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = scratch.Database });
        try
        {
            var shell = new ShellOptions
            {
                RunsDirectory = scratch.File("runs"),
                WorkspacesDirectory = scratch.File("workspaces"),
                Store = store,
            };
            shell = configure?.Invoke(shell) ?? shell;
            compiled ??= WorkflowCompiler.Load(workflowPath, shell);
            var builder = new RatchetBuilder().UseStore(store).Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
            if (observer is not null)
            {
                builder.AddObserver(observer);
            }

            foreach (var workflow in compiled)
            {
                builder.AddWorkflow(workflow.Definition);
            }

            var engine = await builder.BuildAsync();
            await engine.CreateRunner().StartAsync();
            return new YamlRun(store, engine, compiled, shell);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the root workflow with <c>key=value</c> inputs and waits until it ends or waits for a human.</summary>
    public async Task<WorkflowRecord> RunAsync(params string[] inputs) => await RunWithIdAsync(null, inputs);

    public async Task<WorkflowRecord> RunWithIdAsync(string? id, params string[] inputs)
    {
        var input = WorkflowInputs.Bind(Root, inputs);
        var started = await Engine.StartAsync(Compiled[0].Definition.Name, input, new StartOptions { Id = id });
        return await WaitAsync(started.Id);
    }

    public async Task<WorkflowRecord> WaitAsync(string workflowId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await Engine.WaitForAsync(workflowId, static w => w.IsTerminal || w is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Approval }, timeout.Token);
    }

    /// <summary>The node names of the workflow's committed steps, in order.</summary>
    public async Task<IReadOnlyList<string>> NodesRunAsync(string workflowId) =>
        [.. (await Store.GetStepsAsync(workflowId)).Select(s => s.Node)];

    public string LogPath(string workflowId, string node) => System.IO.Path.Combine(Shell.RunsDirectory, workflowId, "logs", node + ".log");

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        await Store.DisposeAsync();
    }
}

/// <summary>Helpers for asserting on JSON and on processes.</summary>
internal static class Probe
{
    public static string Text(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();

    /// <summary>Whether the process <paramref name="pid"/> is gone (or a zombie waiting to be reaped).</summary>
    public static bool IsGone(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return true;
        }

        try
        {
            return File.ReadLines(status).Any(line => line.StartsWith("State:", StringComparison.Ordinal) && line.Contains('Z', StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Polls <paramref name="condition"/> for up to <paramref name="seconds"/> (for processes this test does not own).</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, double seconds = 5)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }

    /// <summary>Runs git in <paramref name="directory"/>, failing the test if it fails.</summary>
    public static async Task GitAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", "user.name=Ratchet Tests", "-c", "user.email=tests@example.invalid", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)} failed: {await error}{await output}");
    }
}
