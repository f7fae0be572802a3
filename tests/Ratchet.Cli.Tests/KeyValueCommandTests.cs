using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary><c>kv save|load|delete|list|checkpoint|checkpoints|restore</c>, each a separate process on one store.</summary>
public sealed class KeyValueCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await _sandbox.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"ratchet {string.Join(' ', args)}: {result}");
        return result;
    }

    [Fact]
    public async Task SaveThenLoad_JsonAndTextValues_RoundTrip()
    {
        await OkAsync("kv", "save", "plan", """{"steps": ["scout", "plan"], "n": 2}""");
        await OkAsync("kv", "save", "phase", "building now", "--text");

        var plan = await OkAsync("kv", "load", "plan");
        var phase = await OkAsync("kv", "load", "phase");
        var raw = await OkAsync("kv", "load", "phase", "--raw");

        var value = JsonDocument.Parse(plan.Stdout).RootElement;
        Assert.Equal(["scout", "plan"], value.GetProperty("steps").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(2, value.GetProperty("n").GetInt32());
        Assert.Equal("\"building now\"", phase.Stdout.Trim());
        Assert.Equal("building now\n", raw.Stdout);
    }

    [Fact]
    public async Task Save_NestedDeeperThanTheLimit_IsRefusedAndAtTheLimitIsSavedAndExportsAndMigrates()
    {
        static string Nested(int depth) => new string('[', depth) + new string(']', depth);

        var tooDeep = await _sandbox.RunAsync("kv", "save", "deep", Nested(65));
        var farTooDeep = await _sandbox.RunAsync("kv", "save", "deep", Nested(10_000));
        await OkAsync("kv", "save", "deep", Nested(64));
        await OkAsync("kv", "checkpoint", "c1");

        var json = await OkAsync("state", "export");
        var lines = await OkAsync("state", "export", "--format", "jsonl");
        await OkAsync("migrate", "--from", $"sqlite:{_sandbox.Database}", "--to", $"files:{_sandbox.File("copy")}");
        var copied = await _sandbox.RunBareAsync("--store", $"files:{_sandbox.File("copy")}", "kv", "load", "deep", "--raw");

        Assert.Equal(2, tooDeep.ExitCode);
        Assert.StartsWith("ratchet: error[json-too-deep]: The value for key 'deep' is nested deeper than 64 levels", tooDeep.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not JSON", tooDeep.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, farTooDeep.ExitCode);
        Assert.Contains("nested deeper than 64", farTooDeep.Stderr, StringComparison.Ordinal);
        var exported = JsonDocument.Parse(json.Stdout, new JsonDocumentOptions { MaxDepth = 200 }).RootElement;
        Assert.Equal(Nested(64), exported.GetProperty("values")[0].GetProperty("value").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
        Assert.Equal(3, lines.StdoutLines.Count);
        Assert.True(copied.ExitCode == 0, copied.ToString());
        Assert.Equal(Nested(64), copied.Stdout.Trim());
    }

    [Fact]
    public async Task Save_ValueFromStandardInput_IsSaved()
    {
        using var process = _sandbox.Start(["kv", "save", "report", "-"], standardInput: """{"passed": 42}""");
        var saved = await process.WaitAsync();

        var loaded = await OkAsync("kv", "load", "report", "--raw");

        Assert.True(saved.ExitCode == 0, saved.ToString());
        Assert.Equal("""{"passed":42}""", loaded.Stdout.Trim());
    }

    [Fact]
    public async Task Namespaces_KeepTheirKeysApart()
    {
        await OkAsync("kv", "save", "branch", "\"fix/1\"", "--ns", "wf-1");
        await OkAsync("kv", "save", "branch", "\"fix/2\"", "--ns", "wf-2");

        Assert.Equal("fix/1", (await OkAsync("kv", "load", "branch", "--ns", "wf-1", "--raw")).Stdout.Trim());
        Assert.Equal("fix/2", (await OkAsync("kv", "load", "branch", "--ns", "wf-2", "--raw")).Stdout.Trim());
        Assert.Equal(2, (await _sandbox.RunAsync("kv", "load", "branch")).ExitCode);
    }

    [Fact]
    public async Task DeleteAndList_ShowWhatIsLeft()
    {
        await OkAsync("kv", "save", "a", "1");
        await OkAsync("kv", "save", "b", "2");
        await OkAsync("kv", "save", "c", "3");

        var deleted = await OkAsync("kv", "delete", "b");
        var absent = await OkAsync("kv", "delete", "b");
        var list = await OkAsync("kv", "list", "--json");

        Assert.Equal("Deleted 'b' from namespace 'default'.", deleted.Stdout.Trim());
        Assert.Equal("No key 'b' in namespace 'default'; nothing to delete.", absent.Stdout.Trim());
        var entries = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["a", "c"], entries.Select(e => e.GetProperty("key").GetString()));
        Assert.Equal([1, 3], entries.Select(e => e.GetProperty("value").GetInt32()));
    }

    [Fact]
    public async Task Restore_Checkpoint_BringsBackItsValuesAndDropsLaterKeys()
    {
        await OkAsync("kv", "save", "phase", "\"plan\"", "--ns", "fix");
        await OkAsync("kv", "save", "files", "[\"a.c\"]", "--ns", "fix");
        var named = await OkAsync("kv", "checkpoint", "after-plan", "--ns", "fix");
        await OkAsync("kv", "save", "phase", "\"build\"", "--ns", "fix");
        await OkAsync("kv", "save", "extra", "true", "--ns", "fix");
        var auto = await OkAsync("kv", "checkpoint", "--ns", "fix");

        var restored = await OkAsync("kv", "restore", "after-plan", "--ns", "fix");
        var checkpoints = await OkAsync("kv", "checkpoints", "--ns", "fix", "--json");

        Assert.Equal("after-plan", named.Stdout.Trim());
        Assert.StartsWith("auto-", auto.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Equal("Restored namespace 'fix' from checkpoint 'after-plan' (2 keys).", restored.Stdout.Trim());
        Assert.Equal("plan", (await OkAsync("kv", "load", "phase", "--ns", "fix", "--raw")).Stdout.Trim());
        Assert.Equal(2, (await _sandbox.RunAsync("kv", "load", "extra", "--ns", "fix")).ExitCode);
        var listed = JsonDocument.Parse(checkpoints.Stdout).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["after-plan", auto.Stdout.Trim()], listed.Select(c => c.GetProperty("name").GetString()));

        var later = await OkAsync("kv", "restore", auto.Stdout.Trim(), "--ns", "fix");
        Assert.Contains("(3 keys)", later.Stdout, StringComparison.Ordinal);
        Assert.Equal("true", (await OkAsync("kv", "load", "extra", "--ns", "fix", "--raw")).Stdout.Trim());
    }

    [Fact]
    public async Task Mistakes_AreOneLineWithExitTwo()
    {
        await OkAsync("kv", "save", "a", "1");

        var notJson = await _sandbox.RunAsync("kv", "save", "b", "not json");
        var missingKey = await _sandbox.RunAsync("kv", "load", "nope");
        var missingCheckpoint = await _sandbox.RunAsync("kv", "restore", "never");
        var badKey = await _sandbox.RunAsync("kv", "save", "a/b", "1");

        foreach (var result in new[] { notJson, missingKey, missingCheckpoint, badKey })
        {
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Single(result.StderrLines);
        }

        Assert.Contains("--text", notJson.Stderr, StringComparison.Ordinal);
        Assert.Contains("nope", missingKey.Stderr, StringComparison.Ordinal);
        Assert.Contains("never", missingCheckpoint.Stderr, StringComparison.Ordinal);
        Assert.Equal("1", (await OkAsync("kv", "load", "a")).Stdout.Trim());
    }
}
