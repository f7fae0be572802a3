using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Engine;

/// <summary>
/// A process group a node's command runs in (its leader's pid is the group id), as recorded with the attempt in a
/// <c>process-started</c> audit event. Whoever takes the attempt over on the same machine stops a recorded group that
/// still runs before the node runs again, so two copies of one node never run at once even when the process that
/// started the first was killed without a chance to stop it.
/// </summary>
/// <param name="Host">The machine it runs on.</param>
/// <param name="BootId">The machine's boot id when it started (see <see cref="WorkerIdentity.BootId"/>).</param>
/// <param name="GroupId">The process group id (the pid of its leader).</param>
/// <param name="StartTime">The leader's start time as the kernel counts it (see <see cref="WorkerIdentity.StartTime"/>).</param>
public sealed partial record ProcessGroup(string Host, string BootId, int GroupId, long StartTime)
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private static readonly ConcurrentDictionary<int, ProcessGroup> RunningHere = new();

    /// <summary>The group led by <paramref name="leaderPid"/>, a process of this machine that was just started; null if it is gone already.</summary>
    public static ProcessGroup? Led(int leaderPid) =>
        WorkerIdentity.ForProcess(leaderPid) is { } leader ? new ProcessGroup(leader.Host, leader.BootId, leaderPid, leader.StartTime) : null;

    /// <summary>The process group of process <paramref name="pid"/> of this machine (Linux); null if it does not run or cannot be told.</summary>
    public static int? GroupIdOf(int pid) => OperatingSystem.IsLinux() && ProcStat.GroupId(pid) is { } id ? (int)id : null;

    /// <summary>Whether the group is of this machine in its current boot, so that this process can see and stop it.</summary>
    public bool IsLocal => Host == WorkerIdentity.Current.Host && BootId == WorkerIdentity.Current.BootId;

    /// <summary>
    /// Whether any process of the group still runs. Its leader may have exited while children it started run on; a
    /// group id is not given to a new process while any member of the group lives, so a leader alive with another start
    /// time means the group is long gone and the pid was reused.
    /// </summary>
    public bool IsAlive()
    {
        if (!IsLocal || OperatingSystem.IsWindows())
        {
            return false;
        }

        if (WorkerIdentity.ForProcess(GroupId) is { } leader)
        {
            return leader.StartTime == StartTime;
        }

        return Kill(-GroupId, 0) == 0;
    }

    /// <summary>
    /// Stops the group: SIGTERM to every member, then SIGKILL to those left after <paramref name="grace"/>. Returns once
    /// no member runs (or, should a member outlive SIGKILL, a second after it was sent).
    /// </summary>
    /// <returns>Whether the group was alive when asked.</returns>
    public async Task<bool> StopAsync(TimeSpan grace, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        if (!IsAlive())
        {
            return false;
        }

        _ = Kill(-GroupId, SigTerm);
        var started = clock.GetTimestamp();
        while (IsAlive() && clock.GetElapsedTime(started) < grace)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), clock, cancellationToken);
        }

        if (IsAlive())
        {
            _ = Kill(-GroupId, SigKill);
            var killed = clock.GetTimestamp();
            while (IsAlive() && clock.GetElapsedTime(killed) < TimeSpan.FromSeconds(1))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), clock, cancellationToken);
            }
        }

        return true;
    }

    /// <summary>SIGKILL to every member at once, for a process that must exit now (a second Ctrl-C).</summary>
    public void KillNow()
    {
        if (IsAlive())
        {
            _ = Kill(-GroupId, SigKill);
        }
    }

    /// <summary>Notes a group this process started, so that an exit in a hurry can still kill it (<see cref="KillAllStartedHere"/>).</summary>
    public void MarkRunningHere() => RunningHere[GroupId] = this;

    /// <summary>The group ended or was stopped.</summary>
    public void MarkEnded() => RunningHere.TryRemove(GroupId, out _);

    /// <summary>Kills every group this process started that still runs: for exiting at once without leaving commands behind.</summary>
    public static void KillAllStartedHere()
    {
        foreach (var group in RunningHere.Values)
        {
            group.KillNow();
        }
    }

    /// <summary>The payload of a <c>process-started</c> audit event.</summary>
    public JsonElement ToPayload() => RatchetJson.ToElement(new Dictionary<string, string>
    {
        ["host"] = Host,
        ["boot"] = BootId,
        ["pgid"] = GroupId.ToString(CultureInfo.InvariantCulture),
        ["start"] = StartTime.ToString(CultureInfo.InvariantCulture),
    });

    /// <summary>Reads the payload of a <c>process-started</c> audit event; null if it is not one.</summary>
    public static ProcessGroup? FromPayload(JsonElement? payload)
    {
        if (payload is not { ValueKind: JsonValueKind.Object } value ||
            !value.TryGetProperty("host", out var host) || !value.TryGetProperty("boot", out var boot) ||
            !value.TryGetProperty("pgid", out var pgid) || !value.TryGetProperty("start", out var start) ||
            !int.TryParse(pgid.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var groupId) ||
            !long.TryParse(start.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var startTime) ||
            host.GetString() is not { Length: > 0 } hostName || boot.GetString() is not { Length: > 0 } bootId)
        {
            return null;
        }

        return new ProcessGroup(hostName, bootId, groupId, startTime);
    }

    /// <inheritdoc />
    public override string ToString() => $"process group {GroupId.ToString(CultureInfo.InvariantCulture)} on {Host}";

    private static int Kill(int pid, int signal)
    {
        if (OperatingSystem.IsWindows())
        {
            return -1;
        }

        return SysKill(pid, signal);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
