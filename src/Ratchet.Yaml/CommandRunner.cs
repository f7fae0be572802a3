using System.Diagnostics;
using System.Text;

namespace Ratchet.Yaml;

/// <summary>A shell command to run: what, where, with which variables and standard input, logged where.</summary>
public sealed record CommandRequest
{
    /// <summary>The command line, already rendered, passed to <c>{shell} -c</c>.</summary>
    public required string CommandLine { get; init; }

    /// <summary>The working directory; must exist.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>Variables added to the inherited environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Text written to the command's standard input (then closed).</summary>
    public string StandardInput { get; init; } = "";

    /// <summary>The log file both output streams are appended to (secrets masked); null for none.</summary>
    public string? LogPath { get; init; }

    /// <summary>A header line for the log, e.g. the attempt.</summary>
    public string? LogHeader { get; init; }

    /// <summary>Secrets to mask in the log and the returned tails.</summary>
    public SecretRedactor Redactor { get; init; } = SecretRedactor.None;
}

/// <summary>How a command ended.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Output">Its whole standard output (up to the cap).</param>
/// <param name="OutputOverflowed">Whether standard output passed the cap (and was cut).</param>
/// <param name="StdoutTail">The end of standard output, secrets masked.</param>
/// <param name="StderrTail">The end of standard error, secrets masked.</param>
/// <param name="Duration">How long it ran.</param>
public sealed record CommandResult(int ExitCode, string Output, bool OutputOverflowed, string StdoutTail, string StderrTail, TimeSpan Duration);

/// <summary>
/// Runs shell commands the way Ratchet's nodes and phases do: <c>{shell} -c "command"</c>, standard input fed,
/// both streams logged (masked) and captured, the whole process tree killed when cancelled.
/// </summary>
public sealed class CommandRunner(ShellOptions options)
{
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

        var start = new ProcessStartInfo(options.Shell)
        {
            WorkingDirectory = request.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(request.CommandLine);
        foreach (var (name, value) in request.Environment)
        {
            start.Environment[name] = value;
        }

        if (request.LogPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(request.LogPath)!);
        }

        await using var log = new LogWriter(request.LogPath, request.Redactor);
        if (request.LogHeader is not null)
        {
            await log.WriteLineAsync(request.LogHeader);
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

        var stdout = new OutputCapture(options.MaxOutputBytes, options.TailBytes);
        var stderr = new OutputCapture(0, options.TailBytes);
        var readOut = PumpAsync(process.StandardOutput, stdout, log, "");
        var readErr = PumpAsync(process.StandardError, stderr, log, "[stderr] ");
        try
        {
            await using (var input = process.StandardInput)
            {
                await input.WriteAsync(request.StandardInput);
            }
        }
        catch (IOException)
        {
            // The command did not read its standard input and has already exited: nothing to hand over.
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken);
            await Task.WhenAll(readOut, readErr);
        }
        catch (OperationCanceledException)
        {
            // Cancelled, timed out or stopping: the command must not outlive its node.
            Kill(process);
            await log.WriteLineAsync($"== stopped after {clock.Elapsed.TotalSeconds:0.###}s");
            throw;
        }

        await log.WriteLineAsync($"== exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:0.###}s");
        return new CommandResult(process.ExitCode, stdout.Text, stdout.Overflowed,
            request.Redactor.Redact(stdout.Tail), request.Redactor.Redact(stderr.Tail), clock.Elapsed);
    }

    private static async Task PumpAsync(StreamReader reader, OutputCapture capture, LogWriter log, string prefix)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            capture.Append(line);
            await log.WriteLineAsync(prefix + line);
        }
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

    /// <summary>Standard output kept whole (up to a cap) and/or its tail.</summary>
    private sealed class OutputCapture(int maxBytes, int tailBytes)
    {
        private readonly StringBuilder? _all = maxBytes > 0 ? new StringBuilder() : null;
        private readonly Queue<string> _tail = new();
        private int _tailLength;

        public bool Overflowed { get; private set; }

        public string Text => _all?.ToString() ?? "";

        public string Tail => string.Join('\n', _tail);

        public void Append(string line)
        {
            if (_all is not null && !Overflowed)
            {
                if (_all.Length + line.Length + 1 > maxBytes)
                {
                    Overflowed = true;
                }
                else
                {
                    _all.Append(line).Append('\n');
                }
            }

            _tail.Enqueue(line);
            _tailLength += line.Length + 1;
            while (_tailLength > tailBytes && _tail.Count > 1)
            {
                _tailLength -= _tail.Dequeue().Length + 1;
            }
        }
    }

    /// <summary>Appends output, secrets masked, to a log file (or nowhere).</summary>
    private sealed class LogWriter(string? path, SecretRedactor redactor) : IAsyncDisposable
    {
        private readonly StreamWriter? _writer = path is null ? null : new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        private readonly SemaphoreSlim _gate = new(1, 1);

        public async Task WriteLineAsync(string line)
        {
            if (_writer is null)
            {
                return;
            }

            await _gate.WaitAsync();
            try
            {
                await _writer.WriteLineAsync(redactor.Redact(line));
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
