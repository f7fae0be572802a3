namespace Ratchet.Cli.Tests;

/// <summary>
/// A files store with one damaged workflow: that workflow is refused on one line with exit 4 (its older last good copy
/// is not shown in its place), the others stay listable and readable, and the damaged bytes stay as they were.
/// </summary>
public sealed class FilesDamageTests : IDisposable
{
    private readonly CliSandbox _sandbox = new("files:state");

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task StateShow_DamagedStateOfCompletedWorkflow_ExitsFourOnOneLineAndListStillWorks()
    {
        _sandbox.Write("ok.yaml", "name: ok\nnodes:\n  a:\n    run: echo a\n  b:\n    run: echo b\n");
        foreach (var id in (string[])["f1", "f2"])
        {
            var run = await _sandbox.RunAsync("run", "ok.yaml", "--id", id);
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        var state = _sandbox.File("state/workflows/f1/state.json");
        Assert.True(File.Exists(state + ".bak"), "The workflow was written once only; the test needs an older last good copy.");
        await File.WriteAllTextAsync(state, "{garbage\n");
        var backup = await File.ReadAllBytesAsync(state + ".bak");

        var show = await _sandbox.RunAsync("state", "show", "f1");
        var list = await _sandbox.RunAsync("state", "list");
        var other = await _sandbox.RunAsync("state", "show", "f2");
        var export = await _sandbox.RunAsync("state", "export");

        Assert.True(show.ExitCode == 4, show.ToString());
        var line = Assert.Single(show.StderrLines);
        Assert.StartsWith("ratchet: error[store-corrupt]: ", line, StringComparison.Ordinal);
        Assert.Contains("workflows/f1/state.json", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Running", show.Stdout, StringComparison.Ordinal);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("f2", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("f1", list.Stdout, StringComparison.Ordinal);
        Assert.True(other.ExitCode == 0, other.ToString());
        Assert.Contains("Completed", other.Stdout, StringComparison.Ordinal);
        Assert.True(export.ExitCode == 4, export.ToString());
        Assert.Contains("workflows/f1/state.json", Assert.Single(export.StderrLines), StringComparison.Ordinal);
        Assert.Equal("{garbage\n", await File.ReadAllTextAsync(state));
        Assert.Equal(backup, await File.ReadAllBytesAsync(state + ".bak"));
    }
}
