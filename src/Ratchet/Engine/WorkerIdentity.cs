using System.Diagnostics;
using System.Globalization;

namespace Ratchet.Engine;

/// <summary>Whether the process a lease owner names is alive, as far as this machine can tell.</summary>
internal enum OwnerLiveness
{
    /// <summary>It cannot be told from here: another machine's process, or an owner id that names no process.</summary>
    Unknown = 0,

    /// <summary>A process of this machine that runs now.</summary>
    Alive = 1,

    /// <summary>A process of this machine (since its last boot) that no longer runs: its leases can be taken over at once.</summary>
    Dead = 2,
}

/// <summary>
/// Who a lease owner is: <c>host:pid:start:boot:random</c>. The start time is the kernel's (field 22 of
/// <c>/proc/PID/stat</c>, clock ticks since boot), which every process reads alike, and the boot id tells a process of
/// an earlier boot from one that reuses its pid now. Together they let a process of the same machine tell for certain
/// whether an owner still runs, so a live owner is never taken for dead and a dead one's work need not wait out its lease.
/// </summary>
/// <param name="Host">The machine's name.</param>
/// <param name="ProcessId">The owner's process id.</param>
/// <param name="StartTime">The process's start time as the kernel counts it (clock ticks since boot on Linux).</param>
/// <param name="BootId">The first characters of the machine's boot id ("0" where the system has none).</param>
internal readonly record struct WorkerIdentity(string Host, int ProcessId, long StartTime, string BootId)
{
    private static readonly Lazy<WorkerIdentity> Self = new(() => ForProcess(Environment.ProcessId) ?? new WorkerIdentity(Environment.MachineName, Environment.ProcessId, 0, "0"));

    /// <summary>This process.</summary>
    public static WorkerIdentity Current => Self.Value;

    /// <summary>A new lease owner id for a runner of this process: its identity and a random part.</summary>
    public static string NewOwnerId() =>
        $"{Current.Host}:{Current.ProcessId.ToString(CultureInfo.InvariantCulture)}:{Current.StartTime.ToString(CultureInfo.InvariantCulture)}:{Current.BootId}:{CrockfordIdGenerator.Instance.NewId()}";

    /// <summary>Whether this identity is of this machine, in its current boot.</summary>
    public bool IsLocal => Host == Current.Host && BootId == Current.BootId;

    /// <summary>Reads an owner id written by <see cref="NewOwnerId"/>; false for any other form.</summary>
    public static bool TryParse(string? owner, out WorkerIdentity identity)
    {
        identity = default;
        var parts = owner?.Split(':');
        if (parts is not { Length: 5 } || parts[0].Length == 0 ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ||
            !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return false;
        }

        identity = new WorkerIdentity(parts[0], pid, start, parts[3]);
        return true;
    }

    /// <summary>Whether <paramref name="owner"/> runs: known only for owners of this machine.</summary>
    public static OwnerLiveness Liveness(string? owner) => TryParse(owner, out var identity) ? identity.Liveness() : OwnerLiveness.Unknown;

    /// <summary>Whether this process runs, if it is one of this machine's.</summary>
    public OwnerLiveness Liveness()
    {
        if (Host != Current.Host)
        {
            return OwnerLiveness.Unknown;
        }

        if (BootId != Current.BootId)
        {
            // Same machine, another boot: nothing of that boot runs any more.
            return OwnerLiveness.Dead;
        }

        if (ProcessId == Current.ProcessId && StartTime == Current.StartTime)
        {
            return OwnerLiveness.Alive;
        }

        return ForProcess(ProcessId) is { } now && now.StartTime == StartTime ? OwnerLiveness.Alive : OwnerLiveness.Dead;
    }

    /// <summary>The identity of process <paramref name="pid"/> of this machine; null if it does not run.</summary>
    public static WorkerIdentity? ForProcess(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            return ProcStat.StartTime(pid) is { } ticks ? new WorkerIdentity(Environment.MachineName, pid, ticks, ProcStat.BootId) : null;
        }

        try
        {
            using var process = Process.GetProcessById(pid);

            // Whole seconds: elsewhere the start time is derived from a clock, and two readers may differ by a little.
            return process.HasExited ? null : new WorkerIdentity(Environment.MachineName, pid, process.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond, "0");
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Short and readable, for listings: <c>pid 1234 on host</c>.</summary>
    public override string ToString() => $"pid {ProcessId.ToString(CultureInfo.InvariantCulture)} on {Host}";
}

/// <summary>What Linux's <c>/proc</c> says about processes and this boot.</summary>
internal static class ProcStat
{
    private static readonly Lazy<string> Boot = new(() =>
    {
        try
        {
            var id = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim().Replace("-", "", StringComparison.Ordinal);
            return id.Length >= 12 ? id[..12] : id.Length > 0 ? id : "0";
        }
        catch (IOException)
        {
            return "0";
        }
        catch (UnauthorizedAccessException)
        {
            return "0";
        }
    });

    public static string BootId => Boot.Value;

    /// <summary>Field 22 of <c>/proc/PID/stat</c>: when the process started, in clock ticks after boot; null if it does not run.</summary>
    public static long? StartTime(int pid) => Field(pid, 19);

    /// <summary>Field 5 of <c>/proc/PID/stat</c>: the process group; null if the process does not run.</summary>
    public static long? GroupId(int pid) => Field(pid, 2);

    /// <summary>A numeric field of <c>/proc/PID/stat</c>, counted from field 3 (the state) as 0; null for a process that does not run.</summary>
    private static long? Field(int pid, int index)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may itself hold spaces and parentheses: count from the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // A zombie has exited: it runs nothing any more.
        if (fields.Length < 20 || fields[0] is "Z" or "X")
        {
            return null;
        }

        return long.TryParse(fields[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
