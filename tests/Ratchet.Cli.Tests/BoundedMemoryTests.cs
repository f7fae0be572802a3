using System.Text;
using Xunit.Abstractions;

namespace Ratchet.Cli.Tests;

/// <summary>
/// What a node prints and what a workflow file holds cannot make <c>ratchet</c> take the machine's memory or disk: the
/// peak resident set of the real CLI process is measured, and must stay under <see cref="PeakLimit"/>.
/// </summary>
public sealed class BoundedMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const long MiB = 1024 * 1024;

    /// <summary>Several times what the runtime and the caps need, a fraction of what unbounded reading took (3.5 GB, 23 GB).</summary>
    private const long PeakLimit = 200 * MiB;

    /// <summary>Where a regression is stopped: far past the limit, far below what it would otherwise take.</summary>
    private const long AbortAbove = 1024 * MiB;

    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Run_NodePrintingOne300MBLine_StaysUnder200MBCutsItsLogAndFailsOnTheOutputCap()
    {
        _sandbox.Write("big.yaml", """
            name: big
            nodes:
              big:
                run: head -c 300000000 /dev/zero | tr '\0' x
            """);

        var measured = await _sandbox.RunMeasuredAsync(["run", "big.yaml", "--id", "big-1"], AbortAbove, TimeSpan.FromMinutes(2));
        output.WriteLine($"ratchet run: peak resident set {measured.PeakRssMiB} MiB, {measured.Elapsed.TotalSeconds:0.0}s");

        Assert.True(measured.Result.ExitCode == 1, measured.ToString());
        Assert.True(measured.PeakRssBytes <= PeakLimit, measured.ToString());
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            var workflow = await store.GetRequiredWorkflowAsync("big-1");
            Assert.Equal(WorkflowStatus.Failed, workflow.Status);
            Assert.Equal("Node 'big' wrote more than 16 MiB to standard output (300000000 bytes); write large results to a file and print its path.", workflow.Error?.Message);
            var command = Assert.Single(await store.GetCommandsAsync("big-1"));
            Assert.Equal((0, new string('x', 4096), ""), (command.ExitCode, command.StdoutTail, command.StderrTail));
        }

        var log = new FileInfo(_sandbox.File("runs/big-1/logs/big.log"));
        Assert.InRange(log.Length, 64 * MiB, (64 * MiB) + 1024);
        var end = ReadEnd(log.FullName, 1024).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["== log cut at 64 MiB: the rest of this attempt's output is not logged", "== 222.1 MiB (232891136 bytes) of output not logged: the log keeps 64 MiB of output per attempt"],
            end[^3..^1]);
        Assert.StartsWith("== exit 0 after ", end[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AliasBomb_IsRefusedAtOnceInOneLineAtTheAliasUnder200MB()
    {
        _sandbox.Write("bomb.yaml", AliasBomb(levels: 9, aliases: 9));

        var measured = await _sandbox.RunMeasuredAsync(["validate", "bomb.yaml"], AbortAbove, TimeSpan.FromSeconds(30));
        output.WriteLine($"ratchet validate: peak resident set {measured.PeakRssMiB} MiB, {measured.Elapsed.TotalSeconds:0.0}s");

        Assert.True(measured.Result.ExitCode == 2, measured.ToString());
        Assert.True(measured.PeakRssBytes <= PeakLimit, measured.ToString());
        var line = Assert.Single(measured.Result.StderrLines);
        Assert.StartsWith("ratchet: error[invalid-workflow-file]: bomb.yaml:11:16: The alias '*l4' stands for 66,430 values, which brings the values that aliases repeat to more than 100,000", line, StringComparison.Ordinal);
        Assert.Empty(measured.Result.Stdout);
    }

    /// <summary>
    /// "Billion laughs": a json input's default whose anchors each alias the one before <paramref name="aliases"/> times,
    /// so the last stands for aliases^levels values in a file of a few hundred bytes.
    /// </summary>
    internal static string AliasBomb(int levels, int aliases)
    {
        var yaml = new StringBuilder("name: bomb\ninputs:\n  x:\n    type: json\n    default:\n");
        yaml.Append("      l0: &l0 [").AppendJoin(", ", Enumerable.Repeat("\"lol\"", aliases)).Append("]\n");
        for (var level = 1; level < levels; level++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"      l{level}: &l{level} [").AppendJoin(", ", Enumerable.Repeat($"*l{level - 1}", aliases)).Append("]\n");
        }

        return yaml.Append("nodes:\n  a:\n    run: echo hi\n").ToString();
    }

    private static string ReadEnd(string path, int bytes)
    {
        using var file = File.OpenRead(path);
        file.Seek(-Math.Min(bytes, file.Length), SeekOrigin.End);
        using var reader = new StreamReader(file, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
