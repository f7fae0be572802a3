using System.Globalization;
using Ratchet.Yaml;

namespace Ratchet.Yaml.Tests;

/// <summary>
/// How a node's command runs as a process: in a session and process group of its own, with SIGPIPE as a shell expects
/// it, and stopped as a whole group (its background children too) when the node is cancelled. Real processes.
/// </summary>
public sealed class CommandProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ratchet-command-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task RunAsync_Command_LeadsAProcessGroupOfItsOwnWithSigpipeNotIgnored()
    {
        Assert.True(CommandRunner.UsesProcessGroups, "Process groups need Linux and util-linux's setsid (Debian: util-linux).");
        var result = await Run("echo \"$$ $(cut -d' ' -f5 /proc/$$/stat)\"; grep SigIgn /proc/self/status; yes | head -n 1 > /dev/null");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var ids = lines[0].Split(' ');
        Assert.Equal(ids[0], ids[1]);
        var ignored = long.Parse(lines[1].Split('\t')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.True((ignored & (1L << 12)) == 0, $"SIGPIPE is ignored in the command (SigIgn {lines[1]}).");
        Assert.DoesNotContain("Broken pipe", result.StderrTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Cancelled_StopsTheWholeGroupIncludingBackgroundChildren()
    {
        Assert.True(CommandRunner.UsesProcessGroups, "Process groups need Linux and util-linux's setsid (Debian: util-linux).");
        var pidFile = Path.Combine(_directory, "child.pid");
        using var cancel = new CancellationTokenSource();
        var running = Run($"sleep 60 & echo $! > '{pidFile}'; wait", cancel.Token);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(pidFile) || (await File.ReadAllTextAsync(pidFile)).Trim().Length == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "the command never started its child.");
            await Task.Delay(20);
        }

        var child = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), CultureInfo.InvariantCulture);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        var status = $"/proc/{child}/status";
        Assert.False(File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ", StringComparison.Ordinal),
            "the command's background child outlived the cancelled node.");
    }

    private Task<CommandResult> Run(string commandLine, CancellationToken cancellationToken = default) =>
        new CommandRunner(new ShellOptions()).RunAsync(new CommandRequest
        {
            CommandLine = commandLine,
            WorkingDirectory = _directory,
            StopGracePeriod = TimeSpan.FromSeconds(2),
        }, cancellationToken);
}
