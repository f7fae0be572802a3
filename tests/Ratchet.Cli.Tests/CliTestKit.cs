using System.Diagnostics;
using System.Reflection;
using System.Text;
using Microsoft.Data.Sqlite;
using Ratchet.Sqlite;

namespace Ratchet.Cli.Tests;

/// <summary>Where the CLI under test is: the build output of src/Ratchet.Cli in this test assembly's configuration.</summary>
internal static class CliTool
{
    public static string AssemblyPath { get; } = Metadata("RatchetCliPath");

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string Examples => Path.Combine(RepositoryRoot, "examples", "workflows");

    /// <summary>The dotnet host running these tests (set by <c>dotnet test</c>), else <c>dotnet</c> on the PATH.</summary>
    public static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string Metadata(string key)
    {
        var value = typeof(CliTool).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        if (key == "RatchetCliPath" && !File.Exists(value))
        {
            throw new InvalidOperationException($"The CLI under test is not built at {value}; build the solution (or src/Ratchet.Cli) in this configuration first.");
        }

        return value;
    }
}

/// <summary>How a CLI process ended.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StdoutLines => Lines(Stdout);

    public IReadOnlyList<string> StderrLines => Lines(Stderr);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// One test's world: a temporary directory (the CLI's working directory) with its own SQLite store, workflow files
/// and scripts, and a <c>bin/ratchet</c> wrapper for shell pipelines. Deleted at the end.
/// </summary>
internal sealed class CliSandbox : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <param name="store">The store URI for every command; default a SQLite file in the sandbox.</param>
    public CliSandbox(string? store = null)
    {
        Path = Directory.CreateTempSubdirectory("ratchet-cli-test-").FullName;
        Store = store ?? "sqlite:" + Database;
        Script("bin/ratchet", $"exec '{CliTool.Dotnet}' '{CliTool.AssemblyPath}' --store '{Store}' \"$@\"\n");
    }

    public string Path { get; }

    /// <summary>
    /// Variables every process of this sandbox gets. By default the master key file is the sandbox's own, so no test
    /// ever reads or creates the user's real key file.
    /// </summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The sandbox's master key file (created on first use by the CLI).</summary>
    public string MasterKeyFile => File("keys/master.key");

    public string Database => File("state.db");

    /// <summary>The store URI every command gets with <c>--store</c>.</summary>
    public string Store { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string text)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public string Script(string name, string body)
    {
        var path = Write(name, "#!/bin/sh\n" + body);
        if (!OperatingSystem.IsWindows())
        {
            System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    /// <summary>Lines of a file the test's workflows append to; none if it does not exist yet.</summary>
    public IReadOnlyList<string> ReadLines(string name) =>
        System.IO.File.Exists(File(name)) ? System.IO.File.ReadAllLines(File(name)) : [];

    /// <summary>Runs <c>ratchet --store STORE args...</c> to its end.</summary>
    public async Task<CliResult> RunAsync(params string[] args) => await Start(args).WaitAsync();

    /// <summary>Starts workflows of <paramref name="file"/> with these ids for workers to run (<c>run --detach</c>), each of which must succeed.</summary>
    public async Task StartDetachedAsync(string file, IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            var started = await RunAsync("run", file, "--id", id, "--detach");
            Assert.True(started.ExitCode == 0, started.ToString());
        }
    }

    /// <summary>Runs <c>ratchet args...</c> without <c>--store</c> (for tests of the store option itself).</summary>
    public async Task<CliResult> RunBareAsync(params string[] args) => await Start(args, withStore: false).WaitAsync();

    /// <summary>Starts <c>ratchet --store STORE args...</c>.</summary>
    /// <param name="args">The command line after <c>--store</c>.</param>
    /// <param name="withStore">Whether to pass <c>--store</c>.</param>
    /// <param name="standardInput">What to write to its standard input.</param>
    /// <param name="environment">Variables beyond the sandbox's.</param>
    /// <param name="newProcessGroup">Whether it leads a process group (and session) of its own, as a job at a terminal does.</param>
    /// <param name="hostName">Runs it in a UTS namespace of its own with this host name, as if on another machine (needs root).</param>
    /// <param name="wrapper">A program (and its arguments) that runs the CLI as its child, such as <c>/usr/bin/time</c>.</param>
    public CliProcess Start(string[] args, bool withStore = true, string? standardInput = null, IReadOnlyDictionary<string, string>? environment = null,
        bool newProcessGroup = false, string? hostName = null, IReadOnlyList<string>? wrapper = null)
    {
        ProcessStartInfo start;
        if (wrapper is not null)
        {
            start = new ProcessStartInfo(wrapper[0]) { WorkingDirectory = Path };
            foreach (var argument in wrapper.Skip(1).Append(CliTool.Dotnet))
            {
                start.ArgumentList.Add(argument);
            }
        }
        else if (hostName is not null)
        {
            // unshare and sh exec in place: the pid is the CLI's, as for a direct start.
            start = new ProcessStartInfo("unshare") { WorkingDirectory = Path };
            foreach (var argument in (string[])["-u", "/bin/sh", "-c", "hostname \"$0\" && exec \"$@\"", hostName, CliTool.Dotnet])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else if (newProcessGroup)
        {
            start = new ProcessStartInfo("setsid") { WorkingDirectory = Path };
            start.ArgumentList.Add(CliTool.Dotnet);
        }
        else
        {
            start = new ProcessStartInfo(CliTool.Dotnet) { WorkingDirectory = Path };
        }

        start.ArgumentList.Add(CliTool.AssemblyPath);
        if (withStore)
        {
            start.ArgumentList.Add("--store");
            start.ArgumentList.Add(Store);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Configure(start);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return CliProcess.Start(start, standardInput);
    }

    /// <summary>
    /// Runs <c>ratchet --store STORE args...</c> to its end and measures the most memory it held: its peak resident set
    /// from the kernel's accounting through <c>/usr/bin/time</c> when that is installed, else the highest VmHWM (the
    /// peak resident set so far) seen polling <c>/proc/PID/status</c>. Meanwhile the CLI is killed, failing the test,
    /// once its resident set passes <paramref name="abortAboveBytes"/>, so that a regression fails at once instead of
    /// taking the machine's memory; and after <paramref name="timeout"/>.
    /// </summary>
    public async Task<MeasuredRun> RunMeasuredAsync(string[] args, long abortAboveBytes, TimeSpan timeout)
    {
        var timeFile = File("peak-rss.txt");
        var exact = System.IO.File.Exists("/usr/bin/time");
        var clock = Stopwatch.StartNew();
        using var process = Start(args, wrapper: exact ? ["/usr/bin/time", "-f", "%M", "-o", timeFile] : null);
        var cli = exact ? await PeakMemory.ChildOfAsync(process.Id) : process.Id;
        var waiting = process.WaitAsync(timeout);
        long polled = 0;
        while (!waiting.IsCompleted)
        {
            polled = Math.Max(polled, cli is { } pid ? PeakMemory.HighWaterMark(pid) : 0);
            if (polled > abortAboveBytes)
            {
                PeakMemory.Kill(cli!.Value);
                var killed = await waiting;
                Assert.Fail($"`ratchet {string.Join(' ', args)}` held {polled / (1024 * 1024)} MiB, past {abortAboveBytes / (1024 * 1024)} MiB, and was killed after {clock.Elapsed.TotalSeconds:0.0}s.\n{killed}");
            }

            await Task.WhenAny(waiting, Task.Delay(10));
        }

        var result = await waiting;
        var peak = exact ? PeakMemory.FromTimeFile(timeFile) : polled;
        return new MeasuredRun(result, Math.Max(peak, polled), clock.Elapsed);
    }

    /// <summary>Runs a bash script in the sandbox with <c>ratchet</c> (on this sandbox's store) on the PATH.</summary>
    public async Task<CliResult> ShellAsync(string script)
    {
        var start = new ProcessStartInfo("/bin/bash") { WorkingDirectory = Path };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["PATH"] = File("bin") + ":" + System.Environment.GetEnvironmentVariable("PATH");
        return await CliProcess.Start(Configure(start), null).WaitAsync();
    }

    /// <summary>Opens the sandbox's store, to look at what the CLI wrote.</summary>
    public async Task<SqliteRatchetStore> OpenStoreAsync() =>
        await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = Database });

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }

    private ProcessStartInfo Configure(ProcessStartInfo start)
    {
        start.Environment.Remove("RATCHET_MASTER_KEY");
        start.Environment["RATCHET_MASTER_KEY_FILE"] = MasterKeyFile;
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }

        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;
        start.Environment.Remove("RATCHET_STORE");

        // Nothing from the machine running the tests may switch on traces, telemetry export or comments on GitHub.
        foreach (var name in (string[])["RATCHET_TRACES", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "GITHUB_TOKEN", "GITHUB_API_URL"])
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }

    /// <summary>A running CLI (or shell) process whose output is collected as it comes.</summary>
    internal sealed class CliProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();
        private readonly Task _readOut;
        private readonly Task _readErr;

        private CliProcess(Process process)
        {
            _process = process;
            _readOut = PumpAsync(process.StandardOutput, _stdout);
            _readErr = PumpAsync(process.StandardError, _stderr);
        }

        public int Id => _process.Id;

        public bool HasExited => _process.HasExited;

        public string Stderr
        {
            get
            {
                lock (_stderr)
                {
                    return _stderr.ToString();
                }
            }
        }

        public static CliProcess Start(ProcessStartInfo start, string? standardInput)
        {
            var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
            var running = new CliProcess(process);
            try
            {
                if (standardInput is not null)
                {
                    process.StandardInput.Write(standardInput);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It exited before reading its input; its exit code tells the rest.
            }

            return running;
        }

        /// <summary>Waits for the process to end (killing it after <paramref name="timeout"/>, which fails the test).</summary>
        public async Task<CliResult> WaitAsync(TimeSpan? timeout = null)
        {
            using var limit = new CancellationTokenSource(timeout ?? DefaultTimeout);
            try
            {
                await _process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
                await Task.WhenAll(_readOut, _readErr);
                Assert.Fail($"`{string.Join(' ', _process.StartInfo.ArgumentList)}` did not end within {timeout ?? DefaultTimeout}.\n{Result()}");
            }

            await Task.WhenAll(_readOut, _readErr);
            return Result();
        }

        /// <summary>Sends a signal with <c>/bin/kill</c> (as a user at a terminal would).</summary>
        public async Task SignalAsync(string signal)
        {
            using var kill = Process.Start("/bin/kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        /// <summary>Sends a signal to the process group the process leads (started with <c>newProcessGroup</c>), as a terminal's Ctrl-C does.</summary>
        public async Task SignalGroupAsync(string signal)
        {
            using var kill = Process.Start("/bin/kill", [$"-{signal}", "--", $"-{_process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]);
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        /// <summary>SIGKILL: the process ends at once, with no chance to clean up.</summary>
        public async Task KillAsync()
        {
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync();
            await Task.WhenAll(_readOut, _readErr);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }

        private CliResult Result()
        {
            lock (_stdout)
            {
                lock (_stderr)
                {
                    return new CliResult(_process.HasExited ? _process.ExitCode : -1, _stdout.ToString(), _stderr.ToString());
                }
            }
        }

        private static async Task PumpAsync(StreamReader reader, StringBuilder into)
        {
            var buffer = new char[4096];
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
            {
                lock (into)
                {
                    into.Append(buffer, 0, read);
                }
            }
        }
    }
}

/// <summary>How a measured CLI process ended, the most memory it held (bytes of resident set) and how long it ran.</summary>
internal sealed record MeasuredRun(CliResult Result, long PeakRssBytes, TimeSpan Elapsed)
{
    public long PeakRssMiB => PeakRssBytes / (1024 * 1024);

    public override string ToString() => $"peak resident set {PeakRssMiB} MiB, {Elapsed.TotalSeconds:0.0}s, {Result}";
}

/// <summary>Reading another process's memory use from Linux's /proc.</summary>
internal static class PeakMemory
{
    /// <summary>The peak resident set of <paramref name="pid"/> so far (VmHWM), in bytes; 0 once it is gone.</summary>
    public static long HighWaterMark(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // Gone between the check and the read.
        }
        catch (UnauthorizedAccessException)
        {
            // Gone, and its number taken by a process of another user.
        }

        return 0;
    }

    /// <summary>The process <paramref name="parent"/> started (a wrapper's only child), once it exists; null if the parent ended first.</summary>
    public static async Task<int?> ChildOfAsync(int parent)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && Directory.Exists($"/proc/{parent}"))
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(System.IO.Path.GetFileName(directory), out var pid) && ParentOf(pid) == parent)
                {
                    return pid;
                }
            }

            await Task.Delay(5);
        }

        return null;
    }

    /// <summary>The peak resident set that <c>/usr/bin/time -f %M</c> wrote (KiB, on the file's last line), in bytes.</summary>
    public static long FromTimeFile(string path) =>
        long.Parse(File.ReadAllLines(path).Last(l => l.Trim().Length > 0).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;

    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // It has ended already.
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            // "pid (comm) state ppid ...": the command name may hold spaces and parentheses, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Bounded polling, for conditions in other processes that nothing in this one can wait on.</summary>
internal static class Eventually
{
    public static async Task<bool> TrueAsync(Func<bool> condition, double seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(25);
        }

        return condition();
    }

    /// <summary>Like <see cref="TrueAsync(Func{bool}, double)"/>, for a condition that reads a store.</summary>
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, double seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(25);
        }

        return await condition();
    }
}
