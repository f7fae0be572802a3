using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Ratchet.Cli.Tests;

/// <summary>
/// Mistakes a user makes: each is one line on standard error (<c>ratchet: error[code]: ...</c>, no stack trace), the
/// documented exit code (2 bad usage or input, 4 store unusable), and nothing stored changes.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private const string Good = """
        name: good
        inputs:
          issue: int
        nodes:
          a:
            run: echo {{ inputs.issue }}
        """;

    private readonly CliSandbox _sandbox = new();

    public BadInputTests()
    {
        _sandbox.Write("good.yaml", Good);
    }

    public void Dispose() => _sandbox.Dispose();

    private static string OneErrorLine(CliResult result, int exitCode)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("ratchet: error[", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        return line;
    }

    /// <summary>The store's whole content, as an export, to show that a refused command changed nothing.</summary>
    private async Task<string> ExportAsync()
    {
        var export = await _sandbox.RunAsync("state", "export", "--format", "jsonl");
        Assert.True(export.ExitCode == 0, export.ToString());
        return export.Stdout;
    }

    [Fact]
    public async Task UnknownNames_TheLibrarySaysWhatIsWrongAndTheCliAddsItsCommand()
    {
        // The library's messages name no command of this tool: another screen (an HTTP API, an agent's tool) shows them too.
        Assert.Equal("No workflow has id 'nope'.", new WorkflowNotFoundException("nope").Message);
        Assert.Equal("No provider is named 'nope'.", new Ratchet.Agents.ProviderNotFoundException("nope").Message);

        var workflow = OneErrorLine(await _sandbox.RunAsync("state", "show", "nope"), 2);
        var key = OneErrorLine(await _sandbox.RunAsync("kv", "load", "nope", "--ns", "team"), 2);
        var provider = OneErrorLine(await _sandbox.RunAsync("provider", "show", "nope"), 2);

        Assert.Equal("ratchet: error[workflow-not-found]: No workflow has id 'nope'. List workflows with `ratchet state list` and check the id.", workflow);
        Assert.Equal("ratchet: error[key-not-found]: No value is saved under key 'nope' in namespace 'team'. List the keys with `ratchet kv list --ns team`.", key);
        Assert.StartsWith("ratchet: error[provider-not-found]: No provider is named 'nope'. List them with `ratchet provider list`, or add it with `ratchet provider add nope --api-key-env VAR`.", provider, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MalformedYaml_ExitsTwoWithOneLineNamingFileAndLine()
    {
        _sandbox.Write("broken.yaml", "name: broken\nnodes:\n  a:\n    run: echo: [oops\n");

        var result = await _sandbox.RunAsync("run", "broken.yaml");

        var line = OneErrorLine(result, 2);
        Assert.StartsWith("ratchet: error[invalid-workflow-file]: broken.yaml:4:", line, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", line, StringComparison.Ordinal);
        Assert.False(File.Exists(_sandbox.Database), "A refused workflow file created a store.");
    }

    [Fact]
    public async Task Run_NextToUnknownNode_ExitsTwoNamingTheTarget()
    {
        await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=1", "--id", "before");
        var before = await ExportAsync();
        _sandbox.Write("next.yaml", "name: next\nnodes:\n  a: { run: echo, next: nowhere }\n");

        var result = await _sandbox.RunAsync("run", "next.yaml");

        var line = OneErrorLine(result, 2);
        Assert.Contains("next.yaml:3:", line, StringComparison.Ordinal);
        Assert.Contains("goes to 'nowhere', which is not a node", line, StringComparison.Ordinal);
        Assert.Equal(before, await ExportAsync());
    }

    [Fact]
    public async Task Run_MissingRequiredInput_ExitsTwoSayingHowToPassIt()
    {
        await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=1", "--id", "before");
        var before = await ExportAsync();

        var missing = await _sandbox.RunAsync("run", "good.yaml");
        var mistyped = await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=abc");
        var unknown = await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=1", "--input", "isue=2");

        Assert.Contains("The required input 'issue' (integer) is missing; pass --input issue=...", OneErrorLine(missing, 2), StringComparison.Ordinal);
        Assert.Contains("'issue' must be a whole number, not 'abc'", OneErrorLine(mistyped, 2), StringComparison.Ordinal);
        Assert.Contains("has no input 'isue'", OneErrorLine(unknown, 2), StringComparison.Ordinal);
        Assert.Equal(before, await ExportAsync());
    }

    [Fact]
    public async Task Run_MissingFile_ExitsTwo()
    {
        var result = await _sandbox.RunAsync("run", "nowhere.yaml");

        Assert.Contains("nowhere.yaml: The file does not exist", OneErrorLine(result, 2), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resume")]
    [InlineData("retry")]
    [InlineData("cancel")]
    [InlineData("approve")]
    [InlineData("trace")]
    [InlineData("state", "show")]
    public async Task Command_UnknownWorkflowId_ExitsTwoNamingIt(params string[] command)
    {
        await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=1", "--id", "before");
        var before = await ExportAsync();

        var result = await _sandbox.RunAsync([.. command, "no-such-id"]);

        Assert.Contains("'no-such-id'", OneErrorLine(result, 2), StringComparison.Ordinal);
        Assert.Equal(before, await ExportAsync());
    }

    [Fact]
    public async Task Command_Unknown_ExitsTwoWithOneLine()
    {
        var result = await _sandbox.RunAsync("frobnicate");

        Assert.Equal("ratchet: error[usage]: Unrecognized command or argument 'frobnicate'. Run `ratchet --help` for the commands and options.", OneErrorLine(result, 2));
    }

    [Fact]
    public async Task Command_UnknownOption_ExitsTwo()
    {
        var result = await _sandbox.RunAsync("run", "good.yaml", "--bogus");

        Assert.Contains("--bogus", OneErrorLine(result, 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_UnsupportedStoreUri_ExitsTwo()
    {
        var result = await _sandbox.RunBareAsync("--store", "mysql://localhost/db", "state", "list");

        Assert.Contains("is not supported", OneErrorLine(result, 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_StoreInAPlaceThatCannotBeWritten_ExitsFour()
    {
        // A path under a regular file cannot be created by anyone, root included.
        _sandbox.Write("a-file", "not a directory");
        var store = "sqlite:" + _sandbox.File("a-file/state.db");

        var run = await _sandbox.RunBareAsync("--store", store, "run", "good.yaml", "--input", "issue=1");
        var list = await _sandbox.RunBareAsync("--store", store, "state", "list");

        Assert.Contains("a-file", OneErrorLine(run, 4), StringComparison.Ordinal);
        Assert.StartsWith("ratchet: error[store-unavailable]:", OneErrorLine(list, 4), StringComparison.Ordinal);
        Assert.Equal("not a directory", await File.ReadAllTextAsync(_sandbox.File("a-file")));
    }

    [Fact]
    public async Task Run_StoreLockedByAnotherProcess_ExitsFourAfterTheBusyTimeout()
    {
        await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=1", "--id", "before");
        var before = await ExportAsync();

        CliResult result;
        await using (var holder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _sandbox.Database, Pooling = false }.ToString()))
        {
            await holder.OpenAsync();
            await using (var command = holder.CreateCommand())
            {
                command.CommandText = "BEGIN EXCLUSIVE;";
                await command.ExecuteNonQueryAsync();
            }

            result = await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=2", "--id", "blocked");
        }

        var line = OneErrorLine(result, 4);
        Assert.StartsWith("ratchet: error[store-unavailable]:", line, StringComparison.Ordinal);
        Assert.Contains("locked", line, StringComparison.Ordinal);
        Assert.Equal(before, await ExportAsync());
    }

    [Fact]
    public async Task Command_CorruptDatabaseFile_ExitsFourAndLeavesTheBytesAsTheyWere()
    {
        var bytes = new byte[16 * 1024];
        new Random(4242).NextBytes(bytes);
        bytes[0] = (byte)'X';
        await File.WriteAllBytesAsync(_sandbox.Database, bytes);
        var hash = SHA256.HashData(bytes);

        var run = await _sandbox.RunAsync("run", "good.yaml", "--input", "issue=1");
        var list = await _sandbox.RunAsync("state", "list");
        var kv = await _sandbox.RunAsync("kv", "save", "k", "1");

        foreach (var result in new[] { run, list, kv })
        {
            var line = OneErrorLine(result, 4);
            Assert.StartsWith("ratchet: error[store-corrupt]:", line, StringComparison.Ordinal);
            Assert.Contains(_sandbox.Database, line, StringComparison.Ordinal);
        }

        Assert.Equal(hash, SHA256.HashData(await File.ReadAllBytesAsync(_sandbox.Database)));
        Assert.False(File.Exists(_sandbox.Database + "-wal") && new FileInfo(_sandbox.Database + "-wal").Length > 0);
    }
}
