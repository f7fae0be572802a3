using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ratchet;
using Ratchet.Bench;
using Ratchet.Engine;
using Ratchet.Sqlite;
using Ratchet.Storage;

// Ratchet's benchmarks. Each run prints one JSON line. See docs/PERFORMANCE.md for what each workload means.
//   dotnet run -c Release --project bench/Ratchet.Bench -- --workload W1|W1-seq|W2|fsync [--n N] [--store URI]
//       [--concurrency C] [--nodes K] [--node-ms MS] [--workers K] [--spawn true] [--pool P] [--commit-batch B]
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
    "W1-worker" => await W1Workers.WorkerAsync(options),
    "fsync" => Workloads.Fsync(options),
    _ => Usage($"unknown workload '{options.Workload}'"),
};

static int Usage(string problem)
{
    Console.Error.WriteLine($"ratchet-bench: {problem}. Usage: --workload W1|W1-seq|W2|fsync [--n N] [--store sqlite:PATH|files:DIR|postgres://...|redis://...] [--concurrency C] [--nodes K] [--node-ms MS] [--workers K] [--spawn true] [--pool P] [--commit-batch B]");
    return 2;
}

internal sealed record BenchOptions(string Workload, int N, string Store, int Concurrency, int Nodes, int NodeMilliseconds, string? Mode, string? EffectsFile)
{
    public string DatabasePath => Store.StartsWith("sqlite:", StringComparison.Ordinal)
        ? Store["sqlite:".Length..]
        : throw new NotSupportedException($"Workload {Workload} runs on sqlite:PATH only; W1 and W1-seq take any store URI.");

    /// <summary>W1: how many worker processes share the store (1: in this process unless <see cref="Spawn"/>).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>W1 with one worker: run it in a child process too, like-for-like with several workers.</summary>
    public bool Spawn { get; init; }

    /// <summary>PostgreSQL: the connection pool's size, when not the store's default.</summary>
    public int? PoolSize { get; init; }

    /// <summary>PostgreSQL: the most node commits merged into one statement (1: none), when not the store's default.</summary>
    public int? CommitBatch { get; init; }

    /// <summary>W1-worker: the run's id (workflow ids start with it) and the workflows to warm up with.</summary>
    public string? Run { get; init; }

    public string Backend => BenchStores.Backend(Store);

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
            values.GetValueOrDefault("effects"))
        {
            Workers = int.Parse(values.GetValueOrDefault("workers", "1"), CultureInfo.InvariantCulture),
            Spawn = values.GetValueOrDefault("spawn") is "true" or "1",
            PoolSize = values.TryGetValue("pool", out var pool) ? int.Parse(pool, CultureInfo.InvariantCulture) : null,
            CommitBatch = values.TryGetValue("commit-batch", out var batch) ? int.Parse(batch, CultureInfo.InvariantCulture) : null,
            Run = values.GetValueOrDefault("run"),
        };
    }
}

internal static class Workloads
{
    public const string WorkflowType = "bench";

    /// <summary>N workflows of K no-op nodes, all started at once; durable steps per second.</summary>
    public static async Task<int> W1Async(BenchOptions options)
    {
        if (options.Workers > 1 || options.Spawn)
        {
            return await W1Workers.RunAsync(options);
        }

        var load = LoadAverage();
        var (bareUs, bareWhat) = await BenchStores.BareCommitAsync(options.Store);
        var counter = new StepCounter();
        await using var engine = await BuildEngineAsync(options, TimeSpan.FromSeconds(30), counter: counter);
        var runner = engine.CreateRunner();
        await runner.StartAsync();

        // Warm up (half the run, at most 5,000 workflows): tiered JIT needs that long on 2 busy cores to settle, and the
        // figure is meant to be the engine's steady state, not its start-up.
        var run = NewRunId();
        await RunBurstAsync(engine, Math.Clamp(options.N / 2, 1000, 5000), $"w1warm-{run}");
        var sqlite = engine.Store as SqliteRatchetStore;
        var before = sqlite?.WriteStatistics;
        var stepsBefore = counter.Steps;

        var clock = Stopwatch.StartNew();
        var ids = await RunBurstAsync(engine, options.N, $"w1-{run}");
        var seconds = clock.Elapsed.TotalSeconds;
        await runner.StopAsync();
        var steps = (long)options.N * options.Nodes;
        var extra = new Dictionary<string, object>
        {
            ["workers"] = 1,
            ["mode"] = "in-process",
            ["concurrency"] = options.Concurrency,
            ["workflows_per_s"] = Round(options.N / seconds),
            ["per_worker_steps"] = new[] { counter.Steps - stepsBefore },
        };
        if (sqlite is not null)
        {
            var after = sqlite.WriteStatistics;
            var statistics = new SqliteWriteStatistics(after.Transactions - before!.Transactions, after.Operations - before.Operations);
            extra["transactions"] = statistics.Transactions;
            extra["operations_per_transaction"] = Round(statistics.OperationsPerTransaction);
        }

        var check = await VerifyCompletedAsync(engine.Store, ids, options.Nodes);
        extra["workflows_completed"] = check.Completed;
        extra["workflows_with_exactly_nodes_steps"] = check.Exact;
        extra["load_before"] = load;
        extra["load_after"] = LoadAverage();
        Report(options, seconds, steps, lost: 0, duplicated: 0, (bareUs, bareWhat), extra);
        return check.Completed == options.N && check.Exact == options.N ? 0 : 1;
    }

    public static string NewRunId() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>The 1, 5 and 15 minute load averages, as <c>uptime</c> shows them: other work on the 2 cores skews figures.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

    /// <summary>
    /// Reads every workflow back from the store: how many completed, and how many hold exactly
    /// <paramref name="nodes"/> completed steps (one per node, none twice).
    /// </summary>
    public static async Task<(int Completed, int Exact)> VerifyCompletedAsync(IRatchetStore store, IReadOnlyList<string> ids, int nodes)
    {
        var completed = 0;
        var exact = 0;
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, token) =>
        {
            var workflow = await store.GetWorkflowAsync(id, token);
            if (workflow?.Status == WorkflowStatus.Completed)
            {
                Interlocked.Increment(ref completed);
            }

            var steps = (await store.GetStepsAsync(id, token)).Where(s => s.Outcome == StepOutcome.Completed).ToList();
            if (steps.Count == nodes && steps.Select(s => s.Node).Distinct(StringComparer.Ordinal).Count() == nodes)
            {
                Interlocked.Increment(ref exact);
            }
        });
        return (completed, exact);
    }

    /// <summary>
    /// Starts <paramref name="count"/> workflows at once and waits until none is active. It watches with one indexed
    /// query every 10 ms rather than one read per workflow, so that observing costs the run next to nothing.
    /// </summary>
    private static async Task<string[]> RunBurstAsync(WorkflowEngine engine, int count, string prefix)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i:D6}").ToArray();
        await Task.WhenAll(ids.Select(id => engine.StartAsync(WorkflowType, null, new StartOptions { Id = id })));
        await WaitUntilNoneActiveAsync(engine.Store, WorkflowType);
        return ids;
    }

    /// <summary>Waits until no workflow of <paramref name="type"/> is active, with one indexed query every 10 ms.</summary>
    public static async Task WaitUntilNoneActiveAsync(IRatchetStore store, string type)
    {
        var anyActive = WorkflowQuery.Active with { Limit = 1, Types = [type] };
        while ((await store.ListWorkflowsAsync(anyActive)).Items.Count > 0)
        {
            await Task.Delay(10);
        }
    }

    /// <summary>One workflow at a time: the latency of one durable step (each its own fsync).</summary>
    public static async Task<int> W1SequentialAsync(BenchOptions options)
    {
        var load = LoadAverage();
        var bare = await BenchStores.BareCommitAsync(options.Store);
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
        Report(options, seconds, (long)options.N * options.Nodes, lost: 0, duplicated: 0, bare, new()
        {
            ["commits_per_workflow"] = options.Nodes + 1,
            ["load_before"] = load,
            ["load_after"] = LoadAverage(),
        });
        return 0;
    }

    /// <summary>
    /// A child process runs N workflows and is killed with SIGKILL part-way; a new process resumes them. Counts
    /// completed nodes missing from the journals (lost) and recorded more than once (duplicated).
    /// </summary>
    public static async Task<int> W2Async(BenchOptions options)
    {
        var fsync = (BenchStores.SqliteBareCommit(options.DatabasePath), "sqlite insert, WAL, synchronous=FULL");
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
        var us = BenchStores.SqliteBareCommit(options.DatabasePath);
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

    public static async Task<WorkflowEngine> BuildEngineAsync(BenchOptions options, TimeSpan lease, EffectLog? effects = null, StepCounter? counter = null, string type = WorkflowType)
    {
        var builder = new WorkflowBuilder(type).DefaultRetry(RetryPolicy.None);
        for (var i = 0; i < options.Nodes; i++)
        {
            var name = $"n{i}";
            var last = i == options.Nodes - 1;
            builder.Node(name, async (context, cancellationToken) =>
            {
                if (options.NodeMilliseconds > 0)
                {
                    await Task.Delay(options.NodeMilliseconds, cancellationToken);
                }

                effects?.Append($"{context.WorkflowId} {context.Node} {context.Attempt}");
                counter?.Add(last);
                return NodeResult.Success();
            });
            if (i < options.Nodes - 1)
            {
                builder.Then($"n{i + 1}");
            }
        }

        return await BenchStores.Use(new RatchetBuilder(), options.Store, options.PoolSize, options.CommitBatch)
            .AddWorkflow(builder.Build())
            .Configure(o =>
            {
                o.MaxConcurrency = options.Concurrency;
                o.LeaseDuration = lease;
                o.PollInterval = TimeSpan.FromMilliseconds(200);
            })
            .BuildAsync();
    }

    public static void Report(BenchOptions options, double seconds, long steps, long lost, long duplicated, (double Us, string What) bare, Dictionary<string, object> extra, double? peakRssMb = null)
    {
        var usPerStep = seconds * 1_000_000 / steps;
        var line = new Dictionary<string, object>
        {
            ["workload"] = options.Workload,
            ["store"] = options.Backend,
            ["n"] = options.N,
            ["nodes"] = options.Nodes,
            ["seconds"] = Round(seconds),
            ["steps_per_s"] = Round(steps / seconds),
            ["us_per_step"] = Round(usPerStep),
            ["lost"] = lost,
            ["duplicated"] = duplicated,
            ["peak_rss_mb"] = Round(peakRssMb ?? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
            ["bare_commit_us"] = Round(bare.Us),
            ["bare_commit"] = bare.What,
            ["us_per_step_vs_bare_commit"] = Round(usPerStep / bare.Us),
        };
        if (options.Backend == "sqlite")
        {
            line["sqlite_full_commit_us"] = Round(bare.Us);
        }

        if (options.PoolSize is { } pool)
        {
            line["pool"] = pool;
        }

        if (options.CommitBatch is { } batch)
        {
            line["commit_batch"] = batch;
        }

        foreach (var (key, value) in extra)
        {
            line[key] = value;
        }

        Console.WriteLine(JsonSerializer.Serialize(line));
    }

    public static double Round(double value) => Math.Round(value, value < 10 ? 3 : 1);

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

/// <summary>Counts node runs (durable steps) and workflows that ran their last node, across the runner's slots.</summary>
internal sealed class StepCounter
{
    private long _steps;
    private long _finished;

    public long Steps => Interlocked.Read(ref _steps);

    public long Finished => Interlocked.Read(ref _finished);

    public void Add(bool lastNode)
    {
        Interlocked.Increment(ref _steps);
        if (lastNode)
        {
            Interlocked.Increment(ref _finished);
        }
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
