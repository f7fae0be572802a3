using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Ratchet.Conformance;

namespace Ratchet.Cli.Tests;

/// <summary>
/// The store fails under a running workflow: the node never runs again and again because its own commit failed, a run
/// ends with the store's error (exit 4) and leaves the workflow resumable, and workers treat a lost server as an
/// outage. The PostgreSQL and Redis servers here are the tests' own (stopped and started again by the tests, so the
/// servers other tests share are never touched).
/// </summary>
public sealed class StoreOutageTests : IDisposable
{
    private const string Flow = """
        name: outage
        nodes:
          a:
            run: echo "a $RATCHET_WORKFLOW_ID" >> effects.txt; sleep 2
          b:
            run: echo "b $RATCHET_WORKFLOW_ID" >> effects.txt
        """;

    // The store is made to refuse a step whose output holds "poison": any other write (the failure) it takes.
    private const string RefusedFlow = """
        name: refused
        nodes:
          a:
            run: echo "a $RATCHET_WORKFLOW_ID" >> effects.txt; echo poison-result
            on: { failure: report }
          b:
            run: echo "b $RATCHET_WORKFLOW_ID" >> effects.txt
            next: end
          report:
            run: echo "report {{ workflow.error.type }} {{ workflow.error.node }}" >> effects.txt; echo "{{ workflow.error.message }}" > reason.txt
            fails_workflow: true
        """;

    // Node 'a' ends when the test writes the file 'release', so the test can change the store before its commit.
    private const string HeldFlow = """
        name: held
        nodes:
          a:
            run: echo "a $RATCHET_WORKFLOW_ID" >> effects.txt; while [ ! -e release ]; do sleep 0.05; done
          b:
            run: echo "b $RATCHET_WORKFLOW_ID" >> effects.txt
        """;

    private readonly List<IDisposable> _cleanup = [];

    public void Dispose()
    {
        foreach (var item in Enumerable.Reverse(_cleanup))
        {
            item.Dispose();
        }
    }

    [Fact]
    public async Task Run_StoreLosesItsTablesMidNode_ExitsFourOnceWithoutRunningTheNodeAgain()
    {
        using var sandbox = new CliSandbox();
        sandbox.Write("flow.yaml", Flow);
        using var run = sandbox.Start(["run", "flow.yaml", "--id", "lost-1"]);
        Assert.True(await Eventually.TrueAsync(() => sandbox.ReadLines("effects.txt").Count > 0), run.Stderr);

        await using (var connection = new SqliteConnection($"Data Source={sandbox.Database}"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE steps";
            await drop.ExecuteNonQueryAsync();
        }

        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));
        SqliteConnection.ClearAllPools();

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("error[store-schema]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("`ratchet resume lost-1`", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["a lost-1"], sandbox.ReadLines("effects.txt"));
    }

    [Fact]
    public async Task Run_FilesStoreCannotWriteTheJournalMidNode_ExitsFourOnceAndResumeFinishesIt()
    {
        using var sandbox = new CliSandbox("files:" + Path.Combine(Path.GetTempPath(), $"ratchet-outage-files-{Guid.NewGuid():N}"));
        var folder = sandbox.Store["files:".Length..];
        _cleanup.Add(new DirectoryRemover(folder));
        sandbox.Write("flow.yaml", Flow);
        using var run = sandbox.Start(["run", "flow.yaml", "--id", "files-1"]);
        Assert.True(await Eventually.TrueAsync(() => sandbox.ReadLines("effects.txt").Count > 0), run.Stderr);

        // A directory where the journal file goes: every write of the node's result fails (root ignores permissions).
        var journal = Path.Combine(folder, "workflows", "files-1", "steps.jsonl");
        File.Delete(journal);
        Directory.CreateDirectory(journal);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("`ratchet resume files-1`", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["a files-1"], sandbox.ReadLines("effects.txt"));

        Directory.Delete(journal);
        var resumed = await sandbox.RunAsync("resume", "files-1");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(["a files-1", "a files-1", "b files-1"], sandbox.ReadLines("effects.txt"));
    }

    [Fact]
    public async Task Run_StoreLockedLongerThanTheCommitRetries_ExitsFourAndResumeFinishesIt()
    {
        using var sandbox = new CliSandbox();
        sandbox.Write("flow.yaml", Flow);
        using var run = sandbox.Start(["run", "flow.yaml", "--id", "locked-1"]);
        Assert.True(await Eventually.TrueAsync(() => sandbox.ReadLines("effects.txt").Count > 0), run.Stderr);

        // Another process holds the write lock until the run has given up.
        CliResult result;
        await using (var connection = new SqliteConnection($"Data Source={sandbox.Database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using (var begin = connection.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync();
            }

            result = await run.WaitAsync(TimeSpan.FromSeconds(120));
        }

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("error[store-unavailable]", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["a locked-1"], sandbox.ReadLines("effects.txt"));

        var resumed = await sandbox.RunAsync("resume", "locked-1");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        await using var store = await sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Completed, (await store.GetRequiredWorkflowAsync("locked-1")).Status);
    }

    [Fact]
    public async Task Run_SqliteRefusesTheNodesResult_FailsTheNodeOnceAndItsFailurePathSeesWhy()
    {
        using var sandbox = new CliSandbox();
        sandbox.Write("flow.yaml", RefusedFlow);
        Assert.Equal(0, (await sandbox.RunAsync("state", "list")).ExitCode);
        await using (var connection = new SqliteConnection($"Data Source={sandbox.Database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var trigger = connection.CreateCommand();
            trigger.CommandText = "CREATE TRIGGER refuse_poison BEFORE INSERT ON steps WHEN NEW.output LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'this store takes no poison'); END";
            await trigger.ExecuteNonQueryAsync();
        }

        await AssertRefusedOnceAsync(sandbox);
    }

    [StoreFact]
    public async Task Run_PostgresRefusesTheNodesResult_FailsTheNodeOnceAndItsFailurePathSeesWhy()
    {
        var (uri, store) = await Ratchet.TestServers.ServerStores.PostgresAsync();
        await store.DisposeAsync();
        try
        {
            var options = Ratchet.Postgres.PostgresStoreOptions.FromUri(uri);
            await using (var connection = new Npgsql.NpgsqlConnection(options.ConnectionString))
            {
                await connection.OpenAsync();
                await using var trigger = new Npgsql.NpgsqlCommand($"""
                    CREATE FUNCTION "{options.Schema}".refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.output LIKE '%poison%' THEN RAISE EXCEPTION 'this store takes no poison'; END IF;
                        RETURN NEW;
                    END $$;
                    CREATE TRIGGER refuse_poison BEFORE INSERT ON "{options.Schema}".steps FOR EACH ROW EXECUTE FUNCTION "{options.Schema}".refuse_poison();
                    """, connection);
                await trigger.ExecuteNonQueryAsync();
            }

            using var sandbox = new CliSandbox(uri);
            sandbox.Write("flow.yaml", RefusedFlow);
            await AssertRefusedOnceAsync(sandbox);
        }
        finally
        {
            await Ratchet.TestServers.ServerStores.DropPostgresAsync(uri);
        }
    }

    [Fact]
    public async Task Run_RedisRefusesEveryScriptMidNode_ExitsFourAtOnceAndResumeFinishesIt()
    {
        var server = Own(RedisServer.Start());
        using var sandbox = new CliSandbox(server.Uri);
        using var run = await StartHeldRunAsync(sandbox, "noperm-1");

        // Refused for good (no retry helps): the run ends with the refusal at once, not after the commit's tries.
        await server.CommandAsync("ACL", "SETUSER", "default", "-evalsha", "-eval");
        sandbox.Write("release", "");
        var ended = Stopwatch.StartNew();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));
        ended.Stop();
        await server.CommandAsync("ACL", "SETUSER", "default", "+@all");

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("ratchet: error[store-error]: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("NOPERM", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("commit try", result.Stderr, StringComparison.Ordinal);
        Assert.True(ended.Elapsed < TimeSpan.FromSeconds(20), $"took {ended.Elapsed} to end after the refusal");
        Assert.Equal(["a noperm-1"], sandbox.ReadLines("effects.txt"));

        var resumed = await sandbox.RunAsync("resume", "noperm-1");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(["a noperm-1", "a noperm-1", "b noperm-1"], sandbox.ReadLines("effects.txt"));
    }

    [Fact]
    public async Task Run_RedisOutOfMemoryForAMoment_RetriesTheCommitAndRunsTheNodeOnce()
    {
        var server = Own(RedisServer.Start());
        using var sandbox = new CliSandbox(server.Uri);
        using var run = await StartHeldRunAsync(sandbox, "oom-1");

        // Out of memory passes (memory is freed or maxmemory raised): the commit is tried again, not given up.
        await server.CommandAsync("CONFIG", "SET", "maxmemory", "1");
        sandbox.Write("release", "");
        Assert.True(await Eventually.TrueAsync(() => run.Stderr.Contains("commit try 1 failed", StringComparison.Ordinal), seconds: 30), run.Stderr);
        await server.CommandAsync("CONFIG", "SET", "maxmemory", "0");
        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("OOM", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["a oom-1", "b oom-1"], sandbox.ReadLines("effects.txt"));
    }

    [Fact]
    public async Task WorkerUntilIdle_FilesStoreFolderGoneMidNode_ExitsFourWithOneLine()
    {
        var folder = FilesFolder();
        await UntilIdleOnLostServerAsync("files:" + folder, () => Directory.Move(folder, folder + ".away"));
        Assert.False(Directory.Exists(folder), "the files store made its folder again");
    }

    [Fact]
    public async Task Worker_FilesStoreFolderGoneAndBack_ResumesClaimingAndCompletesEverything()
    {
        var folder = FilesFolder();
        var stderr = await WorkerOutlivesOutageAsync("files:" + folder, () => Directory.Move(folder, folder + ".away"), () =>
        {
            Directory.Move(folder + ".away", folder);
            return Task.CompletedTask;
        });

        // One spell of trouble, said once: a poll with no room to claim did not ask the store, so it is no answer.
        Assert.Single(stderr, l => l.EndsWith(": the store answers again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WorkerUntilIdle_PostgresStoppedMidNode_ExitsFourWithOneLine()
    {
        var server = Own(await PostgresServer.StartAsync());
        await UntilIdleOnLostServerAsync($"{server.ConnectionString};Schema=outage", server.Stop);
    }

    [Fact]
    public async Task WorkerUntilIdle_RedisKilledMidNode_ExitsFourWithOneLine()
    {
        var server = Own(RedisServer.Start());
        await UntilIdleOnLostServerAsync(server.Uri, server.Kill);
    }

    [Fact]
    public async Task Worker_PostgresStoppedAndStartedAgain_ResumesClaimingAndCompletesEverything()
    {
        var server = Own(await PostgresServer.StartAsync());
        await WorkerOutlivesOutageAsync($"{server.ConnectionString};Schema=outage", server.Stop, () => server.StartAgainAsync());
    }

    [Fact]
    public async Task Worker_RedisKilledAndStartedAgain_ResumesClaimingAndCompletesEverything()
    {
        var server = Own(RedisServer.Start());
        await WorkerOutlivesOutageAsync(server.Uri, server.Kill, () =>
        {
            server.StartAgain();
            return Task.CompletedTask;
        });
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _cleanup.Add(item);
        return item;
    }

    /// <summary>Starts `run` of <see cref="HeldFlow"/> and returns once its node 'a' is running (held until 'release').</summary>
    private static async Task<CliSandbox.CliProcess> StartHeldRunAsync(CliSandbox sandbox, string id)
    {
        sandbox.Write("flow.yaml", HeldFlow);
        var run = sandbox.Start(["run", "flow.yaml", "--id", id]);
        Assert.True(await Eventually.TrueAsync(() => sandbox.ReadLines("effects.txt").Count > 0, seconds: 60), run.Stderr);
        return run;
    }

    /// <summary>A files store's folder outside the sandbox (the tests move it away and back), removed afterwards.</summary>
    private string FilesFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ratchet-outage-files-{Guid.NewGuid():N}");
        Own(new DirectoryRemover(folder));
        Own(new DirectoryRemover(folder + ".away"));
        return folder;
    }

    private static async Task AssertRefusedOnceAsync(CliSandbox sandbox)
    {
        var result = await sandbox.RunAsync("run", "flow.yaml", "--id", "refused-1");

        // Failed through its failure path, which knew why; the node ran once, since running it again meets the same refusal.
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal(["a refused-1", "report store-refused a"], sandbox.ReadLines("effects.txt"));
        Assert.Contains("this store takes no poison", sandbox.ReadLines("reason.txt").Single(), StringComparison.Ordinal);
        var shown = await sandbox.RunAsync("state", "show", "refused-1", "--json");
        using var document = System.Text.Json.JsonDocument.Parse(shown.Stdout);
        var root = document.RootElement;
        Assert.Equal("store-refused", root.GetProperty("workflow").GetProperty("error").GetProperty("type").GetString());

        // The command that ran stays in the audit, though its result could not be kept.
        var trace = await sandbox.RunAsync("trace", "refused-1");
        Assert.Contains(trace.StdoutLines, l => l.Contains("\"command-executed\",\"node\":\"a\"", StringComparison.Ordinal));
    }

    private static async Task UntilIdleOnLostServerAsync(string store, Action stop)
    {
        using var sandbox = new CliSandbox(store);
        sandbox.Write("flow.yaml", Flow);
        await sandbox.StartDetachedAsync("flow.yaml", Enumerable.Range(0, 3).Select(i => $"w-{i}"));

        using var worker = sandbox.Start(["worker", "--until-idle", "--concurrency", "3"]);
        Assert.True(await Eventually.TrueAsync(() => sandbox.ReadLines("effects.txt").Count > 0, seconds: 60), worker.Stderr);
        stop();
        var result = await worker.WaitAsync(TimeSpan.FromSeconds(90));

        // Not 0 with work left behind: the outage is an error, on one line of its own kind.
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Single(result.StderrLines, l => l.StartsWith("ratchet: error[store-unavailable]: ", StringComparison.Ordinal));
    }

    private static async Task<IReadOnlyList<string>> WorkerOutlivesOutageAsync(string store, Action stop, Func<Task> startAgain)
    {
        using var sandbox = new CliSandbox(store);
        sandbox.Write("flow.yaml", Flow);
        const int count = 4;
        await sandbox.StartDetachedAsync("flow.yaml", Enumerable.Range(0, count).Select(i => $"w-{i}"));

        using var worker = sandbox.Start(["worker", "--concurrency", "2", "--lease", "3s"]);
        CliResult stopped;
        try
        {
            Assert.True(await Eventually.TrueAsync(() => sandbox.ReadLines("effects.txt").Count > 0, seconds: 60), worker.Stderr);
            stop();

            // Down for longer than the leases and a few polls: the worker's nodes stop, its claims fail and back off.
            var down = Stopwatch.StartNew();
            Assert.False(await Eventually.TrueAsync(() => worker.HasExited, seconds: 6), $"the worker exited during the outage.\n{worker.Stderr}");
            await startAgain();

            var completed = await Eventually.TrueAsync(async () => (await StatusesAsync(sandbox, count)).All(s => s == WorkflowStatus.Completed), seconds: 120);
            Assert.True(completed, $"not every workflow completed after the outage ({down.Elapsed}): {string.Join(", ", await StatusesAsync(sandbox, count))}\n{worker.Stderr}");
        }
        finally
        {
            if (!worker.HasExited)
            {
                await worker.SignalAsync("INT");
            }

            stopped = await worker.WaitAsync(TimeSpan.FromSeconds(30));
        }

        for (var index = 0; index < count; index++)
        {
            Assert.Single(sandbox.ReadLines("effects.txt"), l => l == $"b w-{index}");
        }

        return stopped.StderrLines;
    }

    private static async Task<List<WorkflowStatus?>> StatusesAsync(CliSandbox sandbox, int count)
    {
        var listed = await sandbox.RunAsync("state", "list", "--json", "--all");
        if (listed.ExitCode != 0)
        {
            return [.. Enumerable.Repeat<WorkflowStatus?>(null, count)];
        }

        using var document = System.Text.Json.JsonDocument.Parse(listed.Stdout);
        var statuses = document.RootElement.EnumerateArray()
            .ToDictionary(w => w.GetProperty("id").GetString()!, w => Enum.Parse<WorkflowStatus>(w.GetProperty("status").GetString()!));
        return [.. Enumerable.Range(0, count).Select(i => statuses.TryGetValue($"w-{i}", out var status) ? status : (WorkflowStatus?)null)];
    }
}

/// <summary>Deletes a directory a test made outside its sandbox.</summary>
internal sealed class DirectoryRemover(string path) : IDisposable
{
    public void Dispose()
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}

/// <summary>A free TCP port on 127.0.0.1, for a server of the test's own.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// A PostgreSQL server of a test's own, on 127.0.0.1 and a free port, data in a temporary directory; run as the
/// postgres user when the test runs as root (PostgreSQL refuses root). Found like test.sh finds it.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private readonly int _port;

    private PostgresServer(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        _port = port;
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={_port.ToString(CultureInfo.InvariantCulture)};Username=ratchet;Database=postgres";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw TestEnvironment.Unavailable("No PostgreSQL server binaries in /usr/lib/postgresql/*/bin (./test.sh installs them).");
        }

        var directory = Directory.CreateTempSubdirectory("ratchet-outage-pg-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            // The postgres user must reach its data directory under ours.
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        }
        var server = new PostgresServer(bin, directory, FreePort.Next());
        if (IsRoot)
        {
            await RunAsync("chown", "postgres:", directory);
        }

        await server.AsServerUserAsync(Path.Combine(bin, "initdb"), "-D", Path.Combine(directory, "db"), "-U", "ratchet", "--auth=trust", "-E", "UTF8", "--no-locale");
        await server.StartAgainAsync();
        return server;
    }

    public Task StartAgainAsync() => AsServerUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", Path.Combine(_directory, "db"), "-l", Path.Combine(_directory, "log"), "-w", "-t", "60",
        "-o", $"-c listen_addresses=127.0.0.1 -p {_port.ToString(CultureInfo.InvariantCulture)} -k {_directory} -c fsync=off", "start");

    /// <summary>As a crash would: no shutdown checkpoint, connections cut.</summary>
    public void Stop() => AsServerUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", Path.Combine(_directory, "db"), "-m", "immediate", "-w", "stop").GetAwaiter().GetResult();

    public void Dispose()
    {
        if (File.Exists(Path.Combine(_directory, "db", "postmaster.pid")))
        {
            try
            {
                Stop();
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        Directory.Delete(_directory, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsServerUserAsync(string program, params string[] arguments) =>
        IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]) : RunAsync(program, arguments);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
        }
    }
}

/// <summary>A Redis server of a test's own, on 127.0.0.1 and a free port, with an fsynced append-only file in a temporary directory.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly int _port;
    private Process? _process;

    private RedisServer(string directory, int port)
    {
        _directory = directory;
        _port = port;
    }

    public string Uri => $"redis://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}/0";

    public static RedisServer Start()
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            throw TestEnvironment.Unavailable("No redis-server in /usr/bin (./test.sh installs it).");
        }

        var server = new RedisServer(Directory.CreateTempSubdirectory("ratchet-outage-redis-").FullName, FreePort.Next());
        server.StartAgain();
        return server;
    }

    public void StartAgain()
    {
        var start = new ProcessStartInfo("/usr/bin/redis-server", ["--bind", "127.0.0.1", "--port", _port.ToString(CultureInfo.InvariantCulture), "--dir", _directory,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"])
        {
            RedirectStandardOutput = true,
        };
        _process = Process.Start(start)!;
        _ = _process.StandardOutput.ReadToEndAsync();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException)
            {
                Thread.Yield();
            }
        }

        throw new InvalidOperationException($"redis-server did not come up on port {_port}.");
    }

    /// <summary>Sends one command (as RESP) and fails unless the server answers +OK.</summary>
    public async Task CommandAsync(params string[] arguments)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        await using var stream = client.GetStream();
        var request = new System.Text.StringBuilder().Append(CultureInfo.InvariantCulture, $"*{arguments.Length}\r\n");
        foreach (var argument in arguments)
        {
            request.Append(CultureInfo.InvariantCulture, $"${System.Text.Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        }

        await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream);
        var answer = await reader.ReadLineAsync();
        if (answer != "+OK")
        {
            throw new InvalidOperationException($"redis-server answered {string.Join(' ', arguments)} with {answer}");
        }
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        _process?.Kill();
        _process?.WaitForExit();
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            Kill();
        }

        _process?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
