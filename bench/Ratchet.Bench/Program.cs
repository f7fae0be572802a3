using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Ratchet;
using Ratchet.Engine;
using Ratchet.Sqlite;
using Ratchet.Storage;

// Ratchet's benchmarks. Each run prints one JSON line. See docs/PERFORMANCE.md for what each workload means.
//   dotnet run -c Release --project bench/Ratchet.Bench -- --workload W1|W1-seq|W2|fsync [--n N] [--store URI]
//       [--concurrency C] [--nodes K] [--node-ms MS]
var options = BenchOptions.Parse(args);
if (options is null)
{
    return 2;
}

return options.Workload switch
{
    "W1" => await Workloads.W1Async(options),
    "W1-seq" => await Workloads.W1SequentialAsync(options),
    "W2" => await Workloads.W2Async(options),
    "W2-child" => await Workloads.W2ChildAsync(options),
    "fsync" => Workloads.Fsync(options),
    _ => Usage($"unknown workload '{options.Workload}'"),
};

static int Usage(string problem)
{
    Console.Error.WriteLine($"ratchet-bench: {problem}. Usage: --workload W1|W1-seq|W2|fsync [--n N] [--store sqlite:PATH] [--concurrency C] [--nodes K] [--node-ms MS]");
    return 2;
}

internal sealed record BenchOptions(string Workload, int N, string Store, int Concurrency, int Nodes, int NodeMilliseconds, string? Mode, string? EffectsFile)
{
    public string DatabasePath => Store.StartsWith("sqlite:", StringComparison.Ordinal)
        ? Store["sqlite:".Length..]
        : throw new NotSupportedException($"Store '{Store}' is not supported by this build of the benchmark; use sqlite:PATH.");

    public static BenchOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"ratchet-bench: expected --name value pairs, got '{args[i]}'.");
                return null;
            }

            values[args[i][2..]] = args[++i];
        }

        var workload = values.GetValueOrDefault("workload", "W1");
        var n = int.Parse(values.GetValueOrDefault("n", workload switch { "W1" => "10000", "W2" => "1000", "W1-seq" => "200", _ => "500" }), CultureInfo.InvariantCulture);
        var store = values.GetValueOrDefault("store") ?? $"sqlite:{Path.Combine(Path.GetTempPath(), $"ratchet-bench-{Guid.NewGuid():N}", "bench.db")}";
        return new BenchOptions(
            workload,
            n,
            store,
            int.Parse(values.GetValueOrDefault("concurrency", "1024"), CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("nodes", "10"), CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("node-ms", workload.StartsWith("W2", StringComparison.Ordinal) ? "20" : "0"), CultureInfo.InvariantCulture),
            values.GetValueOrDefault("mode"),
            values.GetValueOrDefault("effects"));
    }
}

internal static class Workloads
{
    public const string WorkflowType = "bench";

    /// <summary>N workflows of K no-op nodes, all started at once; durable steps per second.</summary>
    public static async Task<int> W1Async(BenchOptions options)
    {
        var fsync = BareCommitMicroseconds(options.DatabasePath);
        await using var engine = await BuildEngineAsync(options, TimeSpan.FromSeconds(30));
        var runner = engine.CreateRunner();
        await runner.StartAsync();

        // Warm up (half the run, at most 5,000 workflows): tiered JIT needs that long on 2 busy cores to settle, and the
        // figure is meant to be the engine's steady state, not its start-up.
        await RunBurstAsync(engine, Math.Clamp(options.N / 2, 1000, 5000));
        var before = ((SqliteRatchetStore)engine.Store).WriteStatistics;

        var clock = Stopwatch.StartNew();
        await RunBurstAsync(engine, options.N);
        var seconds = clock.Elapsed.TotalSeconds;
        await runner.StopAsync();
        var steps = (long)options.N * options.Nodes;
        var after = ((SqliteRatchetStore)engine.Store).WriteStatistics;
        var statistics = new SqliteWriteStatistics(after.Transactions - before.Transactions, after.Operations - before.Operations);
        Report(options, seconds, steps, lost: 0, duplicated: 0, fsync, new()
        {
            ["concurrency"] = options.Concurrency,
            ["workflows_per_s"] = Round(options.N / seconds),
            ["transactions"] = statistics.Transactions,
            ["operations_per_transaction"] = Round(statistics.OperationsPerTransaction),
        });
        return 0;
    }

    /// <summary>
    /// Starts <paramref name="count"/> workflows at once and waits until none is active. It watches with one indexed
    /// query every 10 ms rather than one read per workflow, so that observing costs the run next to nothing.
    /// </summary>
    private static async Task RunBurstAsync(WorkflowEngine engine, int count)
    {
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => engine.StartAsync(WorkflowType)));
        var anyActive = WorkflowQuery.Active with { Limit = 1 };
        while ((await engine.Store.ListWorkflowsAsync(anyActive)).Items.Count > 0)
        {
            await Task.Delay(10);
        }
    }

    /// <summary>One workflow at a time: the latency of one durable step (each its own fsync).</summary>
    public static async Task<int> W1SequentialAsync(BenchOptions options)
    {
        var fsync = BareCommitMicroseconds(options.DatabasePath);
        await using var engine = await BuildEngineAsync(options, TimeSpan.FromSeconds(30));
        var runner = engine.CreateRunner();
        await runner.StartAsync();

        // Warm up the JIT and the file so that the figure is the steady state.
        for (var i = 0; i < 20; i++)
        {
            await engine.WaitForCompletionAsync((await engine.StartAsync(WorkflowType)).Id);
        }

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < options.N; i++)
        {
            var workflow = await engine.StartAsync(WorkflowType);
            await engine.WaitForCompletionAsync(workflow.Id);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await runner.StopAsync();
        Report(options, seconds, (long)options.N * options.Nodes, lost: 0, duplicated: 0, fsync, new()
        {
            ["commits_per_workflow"] = options.Nodes + 1,
        });
        return 0;
    }

    /// <summary>
    /// A child process runs N workflows and is killed with SIGKILL part-way; a new process resumes them. Counts
    /// completed nodes missing from the journals (lost) and recorded more than once (duplicated).
    /// </summary>
    public static async Task<int> W2Async(BenchOptions options)
    {
        var fsync = BareCommitMicroseconds(options.DatabasePath);
        var effects = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath))!, "effects.log");
        var total = (long)options.N * options.Nodes;

        using (var first = StartChild(options, "start", effects))
        {
            // Kill once about a third of the nodes have run: mid-run, with many nodes in flight.
            var deadline = Stopwatch.StartNew();
            while (CountLines(effects) < total / 3 && !first.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(10);
            }

            if (first.HasExited)
            {
                Console.Error.WriteLine($"ratchet-bench: the first process ended (exit {first.ExitCode}) before it could be killed; raise --n or --node-ms.");
                return 1;
            }

            first.Kill();
            await first.WaitForExitAsync();
        }

        var ranBeforeKill = CountLines(effects);
        var clock = Stopwatch.StartNew();
        using var second = StartChild(options, "resume", effects);
        var output = await second.StandardOutput.ReadToEndAsync();
        await second.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        if (second.ExitCode != 0)
        {
            Console.Error.WriteLine($"ratchet-bench: the resuming process failed (exit {second.ExitCode}): {output}");
            return 1;
        }

        var resumed = JsonDocument.Parse(output).RootElement;
        var (lost, duplicated, notCompleted, recovered) = await VerifyAsync(options);
        Report(options, seconds, total, lost, duplicated, fsync, new()
        {
            ["concurrency"] = options.Concurrency,
            ["node_ms"] = options.NodeMilliseconds,
            ["nodes_run_before_kill"] = ranBeforeKill,
            ["node_runs_total"] = CountLines(effects),
            ["workflows_not_completed"] = notCompleted,
            ["workflows_recovered"] = recovered,
            ["lease_s"] = 2,
        }, peakRssMb: resumed.GetProperty("peak_rss_mb").GetDouble());
        return lost == 0 && duplicated == 0 && notCompleted == 0 ? 0 : 1;
    }

    /// <summary>The process W2 starts and kills (mode start), and the one that resumes (mode resume).</summary>
    public static async Task<int> W2ChildAsync(BenchOptions options)
    {
        await using var effects = new EffectLog(options.EffectsFile!);
        await using var engine = await BuildEngineAsync(options, TimeSpan.FromSeconds(2), effects);
        var runner = engine.CreateRunner();
        if (options.Mode == "start")
        {
            await runner.StartAsync();
            await Task.WhenAll(Enumerable.Range(0, options.N).Select(i => engine.StartAsync(WorkflowType, new { index = i }, new StartOptions { Id = $"w2-{i:D6}" })));
            await runner.RunUntilIdleAsync();
            return 0;
        }

        // Resume: the killed process's leases lapse after LeaseDuration; run until every workflow has completed.
        await runner.StartAsync();
        for (var i = 0; i < options.N; i++)
        {
            await engine.WaitForCompletionAsync($"w2-{i:D6}");
        }

        await runner.StopAsync();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["peak_rss_mb"] = Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
        }));
        return 0;
    }

    /// <summary>The cost of one bare SQLite commit with synchronous=FULL in WAL mode on the same disk, in µs.</summary>
    public static int Fsync(BenchOptions options)
    {
        var us = BareCommitMicroseconds(options.DatabasePath);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["workload"] = "fsync", ["sqlite_full_commit_us"] = Round(us) }));
        return 0;
    }

    private static async Task<(long Lost, long Duplicated, int NotCompleted, int Recovered)> VerifyAsync(BenchOptions options)
    {
        await using var store = await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = options.DatabasePath });
        long lost = 0, duplicated = 0;
        int notCompleted = 0, recovered = 0;
        for (var i = 0; i < options.N; i++)
        {
            var id = $"w2-{i:D6}";
            var workflow = await store.GetWorkflowAsync(id);
            if (workflow?.Status != WorkflowStatus.Completed)
            {
                notCompleted++;
            }

            if ((await store.GetEventsAsync(id)).Any(e => e.Type == AuditEventTypes.Recovered))
            {
                recovered++;
            }

            var completed = (await store.GetStepsAsync(id)).Where(s => s.Outcome == StepOutcome.Completed).GroupBy(s => s.Node).ToDictionary(g => g.Key, g => g.Count());
            for (var node = 0; node < options.Nodes; node++)
            {
                var count = completed.GetValueOrDefault($"n{node}");
                lost += count == 0 ? 1 : 0;
                duplicated += Math.Max(0, count - 1);
            }
        }

        return (lost, duplicated, notCompleted, recovered);
    }

    private static Process StartChild(BenchOptions options, string mode, string effects)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Workloads).Assembly.Location);
        }

        foreach (var (name, value) in new[]
        {
            ("workload", "W2-child"), ("mode", mode), ("n", options.N.ToString(CultureInfo.InvariantCulture)), ("store", options.Store),
            ("concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture)), ("nodes", options.Nodes.ToString(CultureInfo.InvariantCulture)),
            ("node-ms", options.NodeMilliseconds.ToString(CultureInfo.InvariantCulture)), ("effects", effects),
        })
        {
            start.ArgumentList.Add("--" + name);
            start.ArgumentList.Add(value);
        }

        return Process.Start(start)!;
    }

    private static async Task<WorkflowEngine> BuildEngineAsync(BenchOptions options, TimeSpan lease, EffectLog? effects = null)
    {
        var builder = new WorkflowBuilder(WorkflowType).DefaultRetry(RetryPolicy.None);
        for (var i = 0; i < options.Nodes; i++)
        {
            var name = $"n{i}";
            builder.Node(name, async (context, cancellationToken) =>
            {
                if (options.NodeMilliseconds > 0)
                {
                    await Task.Delay(options.NodeMilliseconds, cancellationToken);
                }

                effects?.Append($"{context.WorkflowId} {context.Node} {context.Attempt}");
                return NodeResult.Success();
            });
            if (i < options.Nodes - 1)
            {
                builder.Then($"n{i + 1}");
            }
        }

        return await new RatchetBuilder()
            .UseSqlite(options.DatabasePath)
            .AddWorkflow(builder.Build())
            .Configure(o =>
            {
                o.MaxConcurrency = options.Concurrency;
                o.LeaseDuration = lease;
                o.PollInterval = TimeSpan.FromMilliseconds(200);
            })
            .BuildAsync();
    }

    /// <summary>
    /// Times sequential one-row commits on a bare SQLite file (WAL, synchronous=FULL) next to the store: the disk's
    /// price of durability in this run, to compare a durable step against.
    /// </summary>
    private static double BareCommitMicroseconds(string besidePath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(besidePath))!;
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "fsync-baseline.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var setup = connection.CreateCommand();
            setup.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT);";
            setup.ExecuteNonQuery();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t (v) VALUES ('x');";
            insert.Prepare();
            for (var i = 0; i < 20; i++)
            {
                insert.ExecuteNonQuery();
            }

            const int commits = 300;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < commits; i++)
            {
                insert.ExecuteNonQuery();
            }

            var us = clock.Elapsed.TotalMicroseconds / commits;
            SqliteConnection.ClearAllPools();
            File.Delete(path);
            return us;
        }
    }

    private static void Report(BenchOptions options, double seconds, long steps, long lost, long duplicated, double fsyncUs, Dictionary<string, object> extra, double? peakRssMb = null)
    {
        var usPerStep = seconds * 1_000_000 / steps;
        var line = new Dictionary<string, object>
        {
            ["workload"] = options.Workload,
            ["store"] = options.Store.StartsWith("sqlite:", StringComparison.Ordinal) ? "sqlite" : options.Store,
            ["n"] = options.N,
            ["nodes"] = options.Nodes,
            ["seconds"] = Round(seconds),
            ["steps_per_s"] = Round(steps / seconds),
            ["us_per_step"] = Round(usPerStep),
            ["lost"] = lost,
            ["duplicated"] = duplicated,
            ["peak_rss_mb"] = Round(peakRssMb ?? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
            ["sqlite_full_commit_us"] = Round(fsyncUs),
            ["us_per_step_vs_bare_commit"] = Round(usPerStep / fsyncUs),
        };
        foreach (var (key, value) in extra)
        {
            line[key] = value;
        }

        Console.WriteLine(JsonSerializer.Serialize(line));
    }

    private static double Round(double value) => Math.Round(value, value < 10 ? 3 : 1);

    private static long CountLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long lines = 0;
        var buffer = new byte[65536];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        return lines;
    }
}

/// <summary>The side effects nodes perform in W2: one line per node run, so re-runs after the kill can be counted.</summary>
internal sealed class EffectLog(string path) : IAsyncDisposable
{
    private readonly StreamWriter _writer = new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

    public void Append(string line)
    {
        lock (_writer)
        {
            _writer.Write(line + "\n");
        }
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
