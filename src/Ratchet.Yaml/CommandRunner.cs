using System.Diagnostics;
using System.Text;
using Ratchet.Engine;

namespace Ratchet.Yaml;

/// <summary>A shell command to run: what, where, with which variables and standard input, logged where.</summary>
internal sealed record CommandRequest
{
    /// <summary>The command line, already rendered, passed to <c>{shell} -c</c>.</summary>
    public required string CommandLine { get; init; }

    /// <summary>The working directory; must exist.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>Variables added to the inherited environment (which lacks <see cref="ShellOptions.WithheldVariables"/>); they may set a withheld one.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Text written to the command's standard input (then closed).</summary>
    public string StandardInput { get; init; } = "";

    /// <summary>The log file both output streams are appended to (secrets masked, up to <see cref="ShellOptions.MaxLogBytes"/> per run); null for none.</summary>
    public string? LogPath { get; init; }

    /// <summary>A header line for the log, e.g. the attempt.</summary>
    public string? LogHeader { get; init; }

    /// <summary>Secrets to mask in the log and the returned tails.</summary>
    public SecretRedactor Redactor { get; init; } = SecretRedactor.None;

    /// <summary>How long the command may take to exit after SIGTERM (cancelled, timed out, stopping) before SIGKILL. Default 10 seconds.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Called with the command's process group once it exists and before the command may run (it waits on a gate until
    /// this returns), so that the group can be recorded durably: a command never runs unrecorded. Null: not recorded.
    /// </summary>
    public Func<ProcessGroup, CancellationToken, Task>? RecordGroup { get; init; }
}

/// <summary>How a command ended.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Output">Its whole standard output, as printed; empty if it passed the cap.</param>
/// <param name="OutputOverflowed">Whether standard output passed the cap (<see cref="ShellOptions.MaxOutputBytes"/>).</param>
/// <param name="StdoutTail">The end of standard output, secrets masked.</param>
/// <param name="StderrTail">The end of standard error, secrets masked.</param>
/// <param name="Duration">How long it ran.</param>
internal sealed record CommandResult(int ExitCode, string Output, bool OutputOverflowed, string StdoutTail, string StderrTail, TimeSpan Duration)
{
    /// <summary>How many bytes (UTF-8) the command wrote to standard output in all, counted past the cap too.</summary>
    public long OutputBytes { get; init; }

    /// <summary>How many bytes of output the log did not keep, past <see cref="ShellOptions.MaxLogBytes"/>.</summary>
    public long LogBytesDropped { get; init; }
}

/// <summary>
/// Runs shell commands the way Ratchet's nodes and phases do: <c>{shell} -c "command"</c>, standard input fed,
/// both streams logged (masked) and captured. Where <c>setsid</c> exists (Linux), each command runs in a session and
/// process group of its own: Ctrl-C at the terminal reaches <c>ratchet</c> only (which decides what the node's exit
/// means), and stopping the node (cancel, timeout, lease lost, shutdown) stops every process the command started:
/// SIGTERM to the group, SIGKILL after <see cref="CommandRequest.StopGracePeriod"/>. The command waits at a gate until
/// its group is recorded (<see cref="CommandRequest.RecordGroup"/>), so that if <c>ratchet</c> is killed, whoever takes
/// the attempt over can find and stop it.
/// </summary>
internal sealed class CommandRunner(ShellOptions options)
{
    // Big enough that a fast writer is read in few calls, small enough to be nothing beside the caps.
    private const int ReadBufferChars = 16 * 1024;

    // Reads the gate line ("go") from standard input, then becomes the command (same pid, so the group's leader). If
    // ratchet dies before opening the gate, the read meets end of input and the command never runs.
    private const string Gate = "IFS= read -r go || exit 125; [ \"$go\" = go ] || exit 125; exec \"$2\" -c \"$1\"";

    private static readonly string? SetsidPath = OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
        : null;

    /// <summary>
    /// .NET ignores SIGPIPE, and an ignored signal stays ignored across exec (a shell cannot even trap it back): without
    /// this, <c>producer | head</c> in a node would see its producer report "Broken pipe" and never stop. coreutils'
    /// <c>env --default-signal</c> (8.31 and later) puts it back before the shell starts.
    /// </summary>
    private static readonly Lazy<bool> CanResetSigpipe = new(() =>
    {
        if (SetsidPath is null || !File.Exists("/usr/bin/env"))
        {
            return false;
        }

        try
        {
            using var probe = Process.Start(new ProcessStartInfo("/usr/bin/env", ["--default-signal=PIPE", "true"]) { UseShellExecute = false, RedirectStandardError = true })!;
            probe.WaitForExit();
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    /// <summary>Whether commands run in process groups of their own here (Linux with util-linux's <c>setsid</c>).</summary>
    public static bool UsesProcessGroups => SetsidPath is not null;

    /// <summary>Runs <paramref name="request"/> to its end.</summary>
    /// <exception cref="OperationCanceledException">Cancelled: the command and its children were killed.</exception>
    /// <exception cref="InvalidOperationException">The shell or the working directory does not exist.</exception>
    public async Task<CommandResult> RunAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Directory.Exists(request.WorkingDirectory))
        {
            throw new InvalidOperationException($"The working directory '{request.WorkingDirectory}' does not exist.");
        }

        var start = new ProcessStartInfo(SetsidPath ?? options.Shell)
        {
            WorkingDirectory = request.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (SetsidPath is not null)
        {
            if (CanResetSigpipe.Value)
            {
                start.ArgumentList.Add("/usr/bin/env");
                start.ArgumentList.Add("--default-signal=PIPE");
            }

            start.ArgumentList.Add(options.Shell);
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(Gate);
            start.ArgumentList.Add("ratchet-node");
            start.ArgumentList.Add(request.CommandLine);
            start.ArgumentList.Add(options.Shell);
        }
        else
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(request.CommandLine);
        }

        // Ratchet's own secrets stay in this process: a command that prints its environment must have none to print.
        foreach (var name in options.WithheldVariables)
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in request.Environment)
        {
            start.Environment[name] = value;
        }

        if (request.LogPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(request.LogPath)!);
        }

        await using var log = new NodeLog(request.LogPath, options.MaxLogBytes);
        if (request.LogHeader is not null)
        {
            await log.WriteLineAsync(request.Redactor.Redact(request.LogHeader));
        }

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Could not start the shell '{options.Shell}': {ex.Message}. Check that it exists.", ex);
        }

        var group = SetsidPath is null ? null : await GroupOfAsync(process);
        group?.MarkRunningHere();
        using var watchdog = group is null ? null : Watchdog.Start(group, request.StopGracePeriod);
        var stdout = new StreamCapture(request.Redactor, log, "", options.TailBytes, options.MaxOutputBytes);
        var stderr = new StreamCapture(request.Redactor, log, "[stderr] ", options.TailBytes, maxOutputBytes: null);
        var readOut = PumpAsync(process.StandardOutput, stdout);
        var readErr = PumpAsync(process.StandardError, stderr);
        try
        {
            if (group is not null && request.RecordGroup is { } record)
            {
                await record(group, cancellationToken);
            }

            try
            {
                await using (var input = process.StandardInput)
                {
                    if (SetsidPath is not null)
                    {
                        await input.WriteAsync("go\n");
                    }

                    await input.WriteAsync(request.StandardInput);
                }
            }
            catch (IOException)
            {
                // The command did not read its standard input and has already exited: nothing to hand over.
            }

            await process.WaitForExitAsync(cancellationToken);
            await Task.WhenAll(readOut, readErr);
        }
        catch (Exception ex) when (ex is OperationCanceledException || group is not null)
        {
            // Cancelled, timed out, stopping, or the group could not be recorded: the command must not outlive its node.
            await StopAsync(process, group, request.StopGracePeriod);
            await Task.WhenAny(Task.WhenAll(readOut, readErr), Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            await log.WriteLineAsync($"== stopped after {clock.Elapsed.TotalSeconds:0.###}s");
            throw;
        }
        finally
        {
            group?.MarkEnded();
            watchdog?.Release();
        }

        await log.WriteLineAsync($"== exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:0.###}s");
        // The tails come masked from the captures: masked as the output streamed, a secret cut at a tail's start included.
        var output = stdout.Output!;
        return new CommandResult(process.ExitCode, output.Text, output.Overflowed, stdout.Tail.ToString(), stderr.Tail.ToString(), clock.Elapsed)
        {
            OutputBytes = output.Bytes,
            LogBytesDropped = log.Dropped,
        };
    }

    /// <summary>
    /// Reads a stream a buffer at a time, never a line at a time: one line of hundreds of megabytes costs no more
    /// memory than many short ones, since nothing downstream keeps more than its cap.
    /// </summary>
    private static async Task PumpAsync(StreamReader reader, StreamCapture capture)
    {
        var buffer = new char[ReadBufferChars];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory())) > 0)
        {
            await capture.AppendAsync(buffer.AsMemory(0, read));
        }

        await capture.CompleteAsync();
    }

    /// <summary>
    /// The process group <paramref name="process"/> leads, once <c>setsid</c> has made it (before that, a signal to the
    /// group would miss it). The gate holds the command back meanwhile.
    /// </summary>
    private static async Task<ProcessGroup?> GroupOfAsync(Process process)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (ProcessGroup.Led(process.Id) is not { } group)
            {
                // Gone already (the shell could not start): its exit code tells the rest.
                return null;
            }

            if (ProcessGroup.GroupIdOf(process.Id) == process.Id)
            {
                return group;
            }

            await Task.Delay(1, CancellationToken.None);
        }

        throw new InvalidOperationException($"The command's process {process.Id} did not become a process group leader within 5 s; is '{SetsidPath}' util-linux's setsid?");
    }

    private static async Task StopAsync(Process process, ProcessGroup? group, TimeSpan grace)
    {
        if (group is null)
        {
            Kill(process);
            return;
        }

        await group.StopAsync(grace, TimeProvider.System, CancellationToken.None);
        Kill(process);
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    /// <summary>
    /// A small process, in a session of its own, that stops the command's process group if <c>ratchet</c> dies (SIGKILL,
    /// a crash) while the command runs: it waits on a pipe only <c>ratchet</c> writes to, whose end closes with
    /// <c>ratchet</c> however it ends. So a killed <c>ratchet</c> leaves no command running, on any machine, even before
    /// anyone takes its work over. When the command has ended, <see cref="Release"/> tells it to exit.
    /// </summary>
    private sealed class Watchdog : IDisposable
    {
        // $1 the group, $2 the grace period in tenths of a second. (dash's kill takes no "--": "-$1" after the signal is the group.)
        private const string Script =
            "IFS= read -r line; [ \"$line\" = done ] && exit 0; kill -TERM \"-$1\" 2>/dev/null || exit 0; i=0; " +
            "while [ \"$i\" -lt \"$2\" ] && kill -0 \"-$1\" 2>/dev/null; do sleep 0.1; i=$((i+1)); done; kill -KILL \"-$1\" 2>/dev/null; exit 0";

        private readonly Process _process;

        private Watchdog(Process process) => _process = process;

        public static Watchdog? Start(ProcessGroup group, TimeSpan grace)
        {
            var start = new ProcessStartInfo(SetsidPath!)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = false,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            foreach (var argument in (string[])["/bin/sh", "-c", Script, "ratchet-watchdog", group.GroupId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Math.Max(1, (long)Math.Ceiling(grace.TotalMilliseconds / 100)).ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                start.ArgumentList.Add(argument);
            }

            try
            {
                return new Watchdog(Process.Start(start)!);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Without it, the recorded group is still stopped by whoever takes the attempt over on this machine.
                return null;
            }
        }

        /// <summary>The command ended (or was stopped): the watchdog exits without touching anything.</summary>
        public void Release()
        {
            try
            {
                _process.StandardInput.WriteLine("done");
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It is gone already.
            }
        }

        public void Dispose()
        {
            // Reaped in the background: it exits at once after Release.
            var process = _process;
            _ = process.WaitForExitAsync().ContinueWith(_ => process.Dispose(), TaskScheduler.Default);
        }
    }
}
