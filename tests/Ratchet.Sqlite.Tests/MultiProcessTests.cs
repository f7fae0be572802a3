using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Xunit.Abstractions;

namespace Ratchet.Sqlite.Tests;

/// <summary>
/// Real OS processes (Ratchet.Sqlite.TestWriter, built beside this assembly) writing to one SQLite file at once:
/// the busy timeout, BEGIN IMMEDIATE and optimistic versions must together lose no update and no event.
/// </summary>
public sealed class MultiProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task TwoProcesses_IncrementOneCounterAtOnce_LoseNoUpdateAndNoEvent()
    {
        const int perWriter = 150;
        var path = _scratch.File("shared.db");
        await using (await SqliteTestStores.OpenAsync(path))
        {
            // Created up front so that this test is about concurrent writes; the next one covers concurrent opening.
        }

        var results = await RunWritersAsync(path, perWriter, "writer-a", "writer-b");

        await AssertExactTotalsAsync(path, perWriter, ["writer-a", "writer-b"]);
        Assert.All(results, r => Assert.Equal(perWriter, r.Done));
        // How often a writer's read went stale because the other process committed first: evidence that the writes
        // really interleaved. Reported, not asserted: the operating system's scheduling decides it.
        output.WriteLine($"Transaction retries after a conflict: {string.Join(", ", results.Select(r => r.Conflicts))}");
    }

    [Fact]
    public async Task TwoProcesses_OpenANewFileAtOnce_BothMigrateAndWriteEverything()
    {
        const int perWriter = 25;
        var path = _scratch.File("fresh/shared.db");

        await RunWritersAsync(path, perWriter, "first", "second");

        Assert.Equal(SqliteMigrations.LatestVersion, (await SqliteMigrations.GetAppliedAsync(path)).Count);
        await AssertExactTotalsAsync(path, perWriter, ["first", "second"]);
    }

    private static async Task AssertExactTotalsAsync(string path, int perWriter, string[] writers)
    {
        await using var store = await SqliteTestStores.OpenAsync(path, new FakeTimeProvider(TestClock.Start));
        var total = perWriter * writers.Length;

        var counter = await store.GetValueAsync("shared", "counter");
        Assert.NotNull(counter);
        Assert.Equal(total, counter.Value.GetInt64());
        Assert.Equal(total, counter.Version);

        var counterValues = new List<long>();
        foreach (var writer in writers)
        {
            var events = await store.GetEventsAsync(writer);
            var increments = events.Where(e => e.Type == "increment").ToArray();

            // Every event present, each once, in the order the writer committed them, with gapless sequences.
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
            Assert.Equal(Enumerable.Range(1, perWriter).Select(i => i.ToString(CultureInfo.InvariantCulture)),
                increments.Select(e => e.Payload!.Value.GetProperty("index").GetString()));
            counterValues.AddRange(increments.Select(e => long.Parse(e.Payload!.Value.GetProperty("counter").GetString()!, CultureInfo.InvariantCulture)));
        }

        // No lost update: the counter values the writers wrote are exactly 1..total, each written once.
        counterValues.Sort();
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), counterValues);
    }

    private static async Task<IReadOnlyList<WriterResult>> RunWritersAsync(string path, int count, params string[] names)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var processes = names.Select(name => StartWriter(path, name, count)).ToArray();
        try
        {
            // Both open the store and say "ready" before either writes, so their writes overlap for sure.
            var outputs = processes.Select(p => new WriterOutput(p)).ToArray();
            foreach (var output in outputs)
            {
                var line = await output.ReadLineAsync(timeout.Token);
                Assert.True(line == "ready", $"Writer said '{line}' instead of 'ready'. {await output.StderrAsync()}");
            }

            foreach (var process in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync(timeout.Token);
            }

            var results = new List<WriterResult>();
            foreach (var output in outputs)
            {
                var line = await output.ReadLineAsync(timeout.Token);
                await output.Process.WaitForExitAsync(timeout.Token);
                var stderr = await output.StderrAsync();
                Assert.True(output.Process.ExitCode == 0, $"Writer exited {output.Process.ExitCode}: {stderr}");
                var parts = line?.Split(' ') ?? [];
                Assert.True(parts is ["done", _, _], $"Writer said '{line}' instead of 'done N C'. {stderr}");
                results.Add(new WriterResult(int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture)));
            }

            return results;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }

    private static Process StartWriter(string path, string name, int count)
    {
        var writerDll = Path.Combine(AppContext.BaseDirectory, "Ratchet.Sqlite.TestWriter.dll");
        Assert.True(File.Exists(writerDll), $"The writer program is missing at '{writerDll}'; build Ratchet.Sqlite.Tests, which references it.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(writerDll);
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(name);
        start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--wait-for-go");
        return Process.Start(start) ?? throw new InvalidOperationException("The writer process did not start.");
    }

    /// <summary>The dotnet host running these tests, so that the child runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? current
            : "dotnet";
    }

    private sealed record WriterResult(int Done, int Conflicts);

    /// <summary>Reads a child's stdout line by line and its stderr in the background, so that neither pipe fills up.</summary>
    private sealed class WriterOutput(Process process)
    {
        private readonly Task<string> _stderr = process.StandardError.ReadToEndAsync();

        public Process Process { get; } = process;

        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken) =>
            await Process.StandardOutput.ReadLineAsync(cancellationToken);

        public async Task<string> StderrAsync() => _stderr.IsCompleted ? await _stderr : "(stderr still open)";
    }
}
