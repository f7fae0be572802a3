using System.Globalization;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Files.Tests;

/// <summary>
/// The entry point of this assembly when the multi-process tests start it as a child (<c>dotnet Ratchet.Files.Tests.dll
/// writer &lt;root&gt; &lt;name&gt; &lt;count&gt;</c>); the test runner never calls it.
/// </summary>
/// <remarks>
/// Protocol, one line each on stdout: <c>ready</c> once the store is open and this writer's workflow exists; then it
/// reads <c>go</c> from stdin; then <c>done &lt;count&gt; &lt;conflicts&gt;</c>. A count of 0 writes until killed.
/// Each transaction increments <c>shared/counter</c> and appends an <c>increment</c> event carrying the value written
/// to this writer's workflow: two files in two folders that must change together.
/// Exit codes: 0 done, 1 a store error (message on stderr), 2 bad arguments.
/// </remarks>
public static class TestWriterProgram
{
    /// <summary>Runs the writer.</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["writer", var root, var name, var countText] || !int.TryParse(countText, CultureInfo.InvariantCulture, out var count) || count < 0)
        {
            await Console.Error.WriteLineAsync("usage: Ratchet.Files.Tests writer <root> <writer-name> <count>");
            return 2;
        }

        try
        {
            await using var store = await FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = root, LockTimeout = TimeSpan.FromSeconds(30) });
            await new WorkflowCreator(store).CreateAsync(new NewWorkflow { Id = name, Type = "multi-process-writer" });
            Console.WriteLine("ready");
            if (await Console.In.ReadLineAsync() != "go")
            {
                await Console.Error.WriteLineAsync("expected 'go' on stdin");
                return 2;
            }

            var conflicts = 0;
            var options = new TransactionOptions { MaxAttempts = 100_000 };
            for (var i = 1; count == 0 || i <= count; i++)
            {
                var index = i;
                await store.TransactionAsync(async (tx, ct) =>
                {
                    conflicts += tx.Attempt > 1 ? 1 : 0;
                    var entry = await tx.GetValueAsync("shared", "counter", ct);
                    var next = (entry?.Value.GetInt64() ?? 0) + 1;
                    tx.SaveValue("shared", "counter", RatchetJson.ToElement(next));
                    tx.AppendEvent(new AuditEvent
                    {
                        WorkflowId = name,
                        Type = "increment",
                        Payload = RatchetJson.ToElement(new Dictionary<string, string>
                        {
                            ["index"] = index.ToString(CultureInfo.InvariantCulture),
                            ["counter"] = next.ToString(CultureInfo.InvariantCulture),
                        }),
                        At = TimeProvider.System.GetStoreNow(),
                    });
                }, options);
            }

            Console.WriteLine($"done {count} {conflicts}");
            return 0;
        }
        catch (RatchetException ex)
        {
            await Console.Error.WriteLineAsync($"{ex.ErrorCode}: {ex.Message}");
            return 1;
        }
    }
}
