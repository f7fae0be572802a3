using System.Diagnostics;

namespace Ratchet.Cli.Tests;

/// <summary>Processes a test's commands may leave behind when the test kills ratchet under them.</summary>
internal static class Leftovers
{
    /// <summary>
    /// Kills the <c>sleep</c> whose pid a test's command wrote to <c>sleeper.pid</c>, if it still runs: a SIGKILLed
    /// ratchet's watchdog stops it, but a failed test must not leave it behind either way.
    /// </summary>
    public static void KillSleeper(CliSandbox sandbox)
    {
        var pidFile = sandbox.File("sleeper.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) ||
            !File.Exists($"/proc/{pid}/cmdline") || !File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep", StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            using var sleeper = Process.GetProcessById(pid);
            sleeper.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
