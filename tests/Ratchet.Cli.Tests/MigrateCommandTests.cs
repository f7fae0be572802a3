using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary><c>migrate</c> and <c>kv migrate</c> between a SQLite store and a files store, each run a separate process.</summary>
public sealed class MigrateCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await _sandbox.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"ratchet {string.Join(' ', args)}: {result}");
        return result;
    }

    private async Task<string> ExportAsync(string store)
    {
        var result = await _sandbox.RunBareAsync("state", "export", "--store", store);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }

    [Fact]
    public async Task Migrate_SqliteToFilesAndBack_ExportsIdenticalAndReportVerified()
    {
        var workflow = _sandbox.Write("two.yaml", """
            name: two
            nodes:
              first:
                run: echo first
              second:
                run: echo second
            """);
        await OkAsync("run", workflow);
        await OkAsync("kv", "save", "plan", """{"steps":["a","b"]}""");
        await OkAsync("kv", "checkpoint", "before");
        var files = "files:" + _sandbox.File("copy");
        var back = "sqlite:" + _sandbox.File("back.db");

        var there = await OkAsync("migrate", "--from", _sandbox.Store, "--to", files);
        var home = await _sandbox.RunBareAsync("migrate", "--from", files, "--to", back, "--json");

        Assert.True(home.ExitCode == 0, home.ToString());
        Assert.Contains("every copied record reads back identical", there.Stdout, StringComparison.Ordinal);
        Assert.Contains("workflows: 1/1", there.Stderr, StringComparison.Ordinal);
        var report = JsonDocument.Parse(home.Stdout).RootElement;
        Assert.All(report.GetProperty("sections").EnumerateArray(), s => Assert.True(s.GetProperty("matches").GetBoolean()));
        Assert.Equal(1, report.GetProperty("sections")[0].GetProperty("copiedCount").GetInt32());
        Assert.Equal(await ExportAsync(_sandbox.Store), await ExportAsync(back));
    }

    [Fact]
    public async Task Migrate_IntoStoreWithData_RefusedWithExit2UnlessMerge()
    {
        await OkAsync("kv", "save", "k", "1");
        var target = "sqlite:" + _sandbox.File("target.db");
        var seeded = await _sandbox.RunBareAsync("kv", "save", "own", "2", "--store", target);
        Assert.Equal(0, seeded.ExitCode);
        var before = await ExportAsync(target);

        var refused = await _sandbox.RunBareAsync("migrate", "--from", _sandbox.Store, "--to", target);
        var unchanged = await ExportAsync(target);
        var merged = await _sandbox.RunBareAsync("migrate", "--from", _sandbox.Store, "--to", target, "--merge");

        Assert.Equal(2, refused.ExitCode);
        Assert.Single(refused.StderrLines);
        Assert.Contains("already holds data", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--merge", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, unchanged);
        Assert.True(merged.ExitCode == 0, merged.ToString());
        Assert.Equal("1", (await _sandbox.RunBareAsync("kv", "load", "k", "--store", target)).Stdout.Trim());
        Assert.Equal("2", (await _sandbox.RunBareAsync("kv", "load", "own", "--store", target)).Stdout.Trim());
    }

    [Fact]
    public async Task KvMigrate_OneNamespace_CopiesOnlyIt()
    {
        await OkAsync("kv", "save", "a", "1", "--ns", "wanted");
        await OkAsync("kv", "checkpoint", "cp", "--ns", "wanted");
        await OkAsync("kv", "save", "b", "2", "--ns", "other");
        var target = "files:" + _sandbox.File("kv");

        var copied = await OkAsync("kv", "migrate", "--from", _sandbox.Store, "--to", target, "--ns", "wanted");
        var unknown = await _sandbox.RunAsync("kv", "migrate", "--from", _sandbox.Store, "--to", "files:" + _sandbox.File("kv2"), "--ns", "missing");

        Assert.Contains("values", copied.Stdout, StringComparison.Ordinal);
        Assert.Equal("1", (await _sandbox.RunBareAsync("kv", "load", "a", "--ns", "wanted", "--store", target)).Stdout.Trim());
        Assert.Contains("cp", (await _sandbox.RunBareAsync("kv", "checkpoints", "--ns", "wanted", "--store", target)).Stdout, StringComparison.Ordinal);
        Assert.Equal(2, (await _sandbox.RunBareAsync("kv", "load", "b", "--ns", "other", "--store", target)).ExitCode);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no namespace 'missing'", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_SameStoreOrBadUri_RefusedWithExit2()
    {
        await OkAsync("kv", "save", "k", "1");
        var same = await _sandbox.RunAsync("migrate", "--from", _sandbox.Store, "--to", _sandbox.Store);
        var bad = await _sandbox.RunAsync("migrate", "--from", _sandbox.Store, "--to", "mongo://nowhere");
        var missing = await _sandbox.RunAsync("migrate", "--from", "sqlite:" + _sandbox.File("typo.db"), "--to", "files:" + _sandbox.File("out"));

        Assert.Equal(2, same.ExitCode);
        Assert.Contains("same store", same.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not supported", bad.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("There is no SQLite store", missing.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_sandbox.File("typo.db")));
        Assert.False(Directory.Exists(_sandbox.File("out")));
    }
}
