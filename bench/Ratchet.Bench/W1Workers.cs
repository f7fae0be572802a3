using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ratchet.Engine;

namespace Ratchet.Bench;

/// <summary>
/// W1 with worker processes: this process creates the N workflows (no runner of its own, so they wait in the store as
/// Pending), then K child processes of this program claim and run them on the same store. Each child warms up on
/// workflows of its own before the clock starts, so that the figure is the steady state, as in-process W1's is.
/// </summary>
internal static class W1Workers
{
    private const string WarmType = "bench-warm";

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var load = Workloads.LoadAverage();
        var bare = await BenchStores.BareCommitAsync(options.Store);
        var run = Workloads.NewRunId();
        string[] ids;
        await using (var engine = await Workloads.BuildEngineAsync(options, TimeSpan.FromSeconds(30)))
        {
            ids = Enumerable.Range(0, options.N).Select(i => $"w1-{run}-{i:D6}").ToArray();
            foreach (var chunk in ids.Chunk(500))
            {
                await Task.WhenAll(chunk.Select(id => engine.StartAsync(Workloads.WorkflowType, null, new StartOptions { Id = id })));
            }
        }

        var children = Enumerable.Range(0, options.Workers).Select(_ => StartWorker(options, run)).ToArray();
        try
        {
            foreach (var child in children)
            {
                var line = await child.StandardOutput.ReadLineAsync();
                if (line != "ready")
                {
                    await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                    Console.Error.WriteLine($"ratchet-bench: a worker did not get ready (said '{line}', exit {child.ExitCode}).");
                    return 1;
                }
            }

            await using var store = await Workloads.BuildEngineAsync(options, TimeSpan.FromSeconds(30));
            var clock = Stopwatch.StartNew();
            foreach (var child in children)
            {
                await child.StandardInput.WriteLineAsync("go");
                await child.StandardInput.FlushAsync();
            }

            await Workloads.WaitUntilNoneActiveAsync(store.Store, Workloads.WorkflowType);
            var seconds = clock.Elapsed.TotalSeconds;
            var loadAfter = Workloads.LoadAverage();

            var perWorker = new List<long>();
            double peakRss = 0;
            foreach (var child in children)
            {
                await child.StandardInput.WriteLineAsync("stop");
                await child.StandardInput.FlushAsync();
                var report = JsonDocument.Parse(await child.StandardOutput.ReadToEndAsync()).RootElement;
                await child.WaitForExitAsync();
                perWorker.Add(report.GetProperty("steps").GetInt64());
                peakRss = Math.Max(peakRss, report.GetProperty("peak_rss_mb").GetDouble());
            }

            var check = await Workloads.VerifyCompletedAsync(store.Store, ids, options.Nodes);
            Workloads.Report(options, seconds, (long)options.N * options.Nodes, lost: 0, duplicated: 0, bare, new()
            {
                ["workers"] = options.Workers,
                ["mode"] = "processes",
                ["worker_pool"] = WorkerPoolSize(options),
                ["concurrency"] = options.Concurrency,
                ["workflows_per_s"] = Workloads.Round(options.N / seconds),
                ["per_worker_steps"] = perWorker,
                ["workflows_completed"] = check.Completed,
                ["workflows_with_exactly_nodes_steps"] = check.Exact,
                ["load_before"] = load,
                ["load_after"] = loadAfter,
            }, peakRssMb: peakRss);
            return check.Completed == options.N && check.Exact == options.N ? 0 : 1;
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill();
                }

                child.Dispose();
            }
        }
    }

    /// <summary>
    /// One worker process: warms up on its own workflows, says "ready", starts its runner on "go" and stops on "stop"
    /// (when the parent sees nothing left to do), then prints how many steps it ran.
    /// </summary>
    public static async Task<int> WorkerAsync(BenchOptions options)
    {
        var warm = new StepCounter();
        var counter = new StepCounter();
        await using var warmEngine = await Workloads.BuildEngineAsync(options, TimeSpan.FromSeconds(30), counter: warm, type: WarmType);
        await using var engine = await Workloads.BuildEngineAsync(options, TimeSpan.FromSeconds(30), counter: counter);
        var warmRunner = warmEngine.CreateRunner();
        await warmRunner.StartAsync();
        var count = Math.Clamp(options.N, 200, 5000);
        var run = Workloads.NewRunId();
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => warmEngine.StartAsync(WarmType, null, new StartOptions { Id = $"w1warm-{run}-{i:D6}" })));
        while (warm.Finished < count)
        {
            await Task.Delay(10);
        }

        await warmRunner.StopAsync();
        await warmEngine.DisposeAsync();

        // Console.In reads synchronously even through ReadLineAsync: awaited on a pool thread, that read stalled the
        // Redis workers' runner for good (the PostgreSQL ones ran). A thread of its own keeps it off the pool.
        var commands = new System.Collections.Concurrent.BlockingCollection<string?>();
        var stdin = new Thread(() =>
        {
            while (Console.In.ReadLine() is { } line)
            {
                commands.Add(line);
            }

            commands.Add(null);
        }) { IsBackground = true };
        stdin.Start();

        Console.WriteLine("ready");
        if (await Task.Run(() => commands.Take()) != "go")
        {
            return 1;
        }

        var runner = engine.CreateRunner();
        await runner.StartAsync();
        if (await Task.Run(() => commands.Take()) != "stop")
        {
            return 1;
        }

        await runner.StopAsync();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["steps"] = counter.Steps,
            ["peak_rss_mb"] = Workloads.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
        }));
        return 0;
    }

    /// <summary>
    /// PostgreSQL connections per worker: the store's default of 100 each would exceed the server's max_connections
    /// (300 here) with 3 workers, so the workers share about 96 unless --pool says otherwise.
    /// </summary>
    public static int WorkerPoolSize(BenchOptions options) => options.PoolSize ?? Math.Max(8, 96 / options.Workers);

    private static Process StartWorker(BenchOptions options, string run)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(W1Workers).Assembly.Location);
        }

        // Each worker warms up on its share of the run, at most 5,000 workflows (as in-process W1 does).
        var warm = options.N / 2 / options.Workers;
        foreach (var (name, value) in new[]
        {
            ("workload", "W1-worker"), ("store", options.Store), ("run", run),
            ("n", warm.ToString(CultureInfo.InvariantCulture)),
            ("concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture)),
            ("nodes", options.Nodes.ToString(CultureInfo.InvariantCulture)),
            ("pool", WorkerPoolSize(options).ToString(CultureInfo.InvariantCulture)),
            ("commit-batch", options.CommitBatch?.ToString(CultureInfo.InvariantCulture) ?? ""),
        })
        {
            if (value.Length > 0)
            {
                start.ArgumentList.Add("--" + name);
                start.ArgumentList.Add(value);
            }
        }

        return Process.Start(start)!;
    }
}
