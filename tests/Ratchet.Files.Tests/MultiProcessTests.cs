using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Xunit.Abstractions;

namespace Ratchet.Files.Tests;

/// <summary>
/// Real OS processes (this assembly run as <see cref="TestWriterProgram"/>) writing to one root at once: the lock
/// file and optimistic versions must together lose no update and no event, and a process killed mid-commit must
/// leave a store whose next opener completes or never sees that commit, never half of it.
/// </summary>
public sealed class MultiProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private readonly string _scratch = Directory.CreateTempSubdirectory("ratchet-files-mp-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }

    [Fact]
    public async Task TwoProcesses_IncrementOneCounterAtOnce_LoseNoUpdateAndNoEvent()
    {
        const int perWriter = 60;
        var root = Path.Combine(_scratch, "store");
        using var timeout = new CancellationTokenSource(Deadline);
        var writers = new[] { Start(root, "writer-a", perWriter), Start(root, "writer-b", perWriter) };
        try
        {
            await ReadyThenGoAsync(writers, timeout.Token);
            foreach (var writer in writers)
            {
                var line = await writer.Process.StandardOutput.ReadLineAsync(timeout.Token);
                await writer.Process.WaitForExitAsync(timeout.Token);
                Assert.True(writer.Process.ExitCode == 0, $"Writer exited {writer.Process.ExitCode}: {await writer.StderrAsync()}");
                Assert.StartsWith("done ", line, StringComparison.Ordinal);
                output.WriteLine(line);
            }
        }
        finally
        {
            Stop(writers);
        }

        var total = await AssertConsistentAsync(root, ["writer-a", "writer-b"]);
        Assert.Equal(2 * perWriter, total);
    }

    [Fact]
    public async Task ProcessKilledMidRun_NextOpenerSeesWholeCommitsOnly()
    {
        var root = Path.Combine(_scratch, "store");
        using var timeout = new CancellationTokenSource(Deadline);
        var writers = new[] { Start(root, "victim", 0), Start(root, "survivor", 0) };
        try
        {
            await ReadyThenGoAsync(writers, timeout.Token);
            await Task.Delay(TimeSpan.FromMilliseconds(1500), timeout.Token);
            writers[0].Process.Kill(entireProcessTree: true);
            await Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token);
            writers[1].Process.Kill(entireProcessTree: true);
            await Task.WhenAll(writers.Select(w => w.Process.WaitForExitAsync(timeout.Token)));
        }
        finally
        {
            Stop(writers);
        }

        // Reported, not asserted: whether a kill landed between an intent and its deletion is the scheduler's choice.
        var interrupted = File.Exists(Path.Combine(root, "journal", "intent.json"));
        var total = await AssertConsistentAsync(root, ["victim", "survivor"]);
        output.WriteLine($"Increments committed before the kills: {total}; a commit was left half-applied: {interrupted}");
        Assert.True(total > 0, "The writers committed nothing before they were killed; the test proved nothing.");
    }

    /// <summary>Opens the root (completing any interrupted commit) and checks every increment is whole: the counter's value and version equal the number of increment events, whose values are exactly 1..total.</summary>
    private static async Task<int> AssertConsistentAsync(string root, string[] writers)
    {
        await using var store = await FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = root, TimeProvider = new FakeTimeProvider(TestClock.Start) });
        var counterValues = new List<long>();
        foreach (var writer in writers)
        {
            var events = await store.GetEventsAsync(writer);
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
            var increments = events.Where(e => e.Type == "increment").ToArray();
            Assert.Equal(Enumerable.Range(1, increments.Length).Select(i => i.ToString(CultureInfo.InvariantCulture)),
                increments.Select(e => e.Payload!.Value.GetProperty("index").GetString()));
            counterValues.AddRange(increments.Select(e => long.Parse(e.Payload!.Value.GetProperty("counter").GetString()!, CultureInfo.InvariantCulture)));
        }

        counterValues.Sort();
        var counter = await store.GetValueAsync("shared", "counter");
        Assert.Equal(Enumerable.Range(1, counterValues.Count).Select(i => (long)i), counterValues);
        Assert.Equal(counterValues.Count, counter?.Value.GetInt64() ?? 0);
        Assert.Equal(counterValues.Count, counter?.Version ?? 0);
        Assert.False(File.Exists(Path.Combine(root, "journal", "intent.json")));
        return counterValues.Count;
    }

    private static async Task ReadyThenGoAsync(Writer[] writers, CancellationToken cancellationToken)
    {
        foreach (var writer in writers)
        {
            var line = await writer.Process.StandardOutput.ReadLineAsync(cancellationToken);
            Assert.True(line == "ready", $"Writer said '{line}' instead of 'ready'. {await writer.StderrAsync()}");
        }

        foreach (var writer in writers)
        {
            await writer.Process.StandardInput.WriteLineAsync("go");
            await writer.Process.StandardInput.FlushAsync(cancellationToken);
        }
    }

    private static Writer Start(string root, string name, int count)
    {
        var self = typeof(TestWriterProgram).Assembly.Location;
        var current = Environment.ProcessPath;
        var host = current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? current : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { self, "writer", root, name, count.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        return new Writer(Process.Start(start) ?? throw new InvalidOperationException("The writer process did not start."));
    }

    private static void Stop(Writer[] writers)
    {
        foreach (var writer in writers)
        {
            if (!writer.Process.HasExited)
            {
                writer.Process.Kill(entireProcessTree: true);
            }

            writer.Process.Dispose();
        }
    }

    /// <summary>A child, with its stderr read in the background so that the pipe never fills up.</summary>
    private sealed class Writer(Process process)
    {
        private readonly Task<string> _stderr = process.StandardError.ReadToEndAsync();

        public Process Process { get; } = process;

        public async Task<string> StderrAsync() => _stderr.IsCompleted ? await _stderr : "(stderr still open)";
    }
}
