using System.Diagnostics;
using System.Globalization;

namespace Ratchet.Cli;

/// <summary>
/// Worker ids of the form <c>host:pid:start:random</c>, so that a later <c>ratchet</c> on the same machine can tell that
/// the process holding a workflow's lease is gone (killed, crashed) and take the workflow over without waiting for the
/// lease to lapse.
/// </summary>
internal static class LeaseOwners
{
    public static string ForThisProcess()
    {
        using var self = Process.GetCurrentProcess();
        return $"{Environment.MachineName}:{Environment.ProcessId}:{self.StartTime.ToUniversalTime().Ticks}:{CrockfordIdGenerator.Instance.NewId()}";
    }

    /// <summary>Whether <paramref name="owner"/> names a process of this machine that no longer runs.</summary>
    public static bool IsDeadLocalProcess(string? owner)
    {
        var parts = owner?.Split(':');
        if (parts is not { Length: 4 } || parts[0] != Environment.MachineName ||
            !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ||
            !long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var startTicks))
        {
            return false;
        }

        if (pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);

            // Same pid, different start time: the pid was reused by another program.
            return process.HasExited || process.StartTime.ToUniversalTime().Ticks != startTicks;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
