using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary>
/// Issue 10, point 7.5: every command hands the store and the engine a logger whose warnings reach standard error as
/// one line each, without touching standard output.
/// </summary>
public sealed class LoggingTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task StateList_FilesStoreWithATornFile_LeavesItOutWithOneWarningLineOnStderr()
    {
        var store = $"files:{_sandbox.File("state")}";
        _sandbox.Write("flow.yaml", "name: two\nnodes:\n  a: { run: echo a }\n  b: { run: echo b }\n");
        foreach (var id in (string[])["torn-1", "whole-1"])
        {
            var run = await _sandbox.RunBareAsync("--store", store, "run", "flow.yaml", "--id", id);
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        // Half a state.json, as a crash in the middle of a write by something other than the store would leave it.
        var state = _sandbox.File(Path.Combine("state", "workflows", "torn-1", "state.json"));
        var bytes = await File.ReadAllBytesAsync(state);
        await File.WriteAllBytesAsync(state, bytes[..(bytes.Length / 2)]);

        var list = await _sandbox.RunBareAsync("--store", store, "state", "list", "--json");

        Assert.True(list.ExitCode == 0, list.ToString());
        var warning = Assert.Single(list.StderrLines);
        Assert.StartsWith($"ratchet: warning: Left the damaged file {state} out of ", warning, StringComparison.Ordinal);
        Assert.Equal(["whole-1"], JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Select(w => w.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task StateList_Verbose_AddsInformationLinesOnStderrOnly()
    {
        var quiet = await _sandbox.RunAsync("state", "list", "--json");
        var verbose = await _sandbox.RunAsync("state", "list", "--json", "--verbose");

        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        Assert.Empty(quiet.StderrLines);
        Assert.Contains(verbose.StderrLines, l => l.StartsWith("ratchet: info: Opened SQLite store ", StringComparison.Ordinal));
        Assert.Equal(quiet.Stdout, verbose.Stdout);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(verbose.Stdout).RootElement.ValueKind);
    }
}
