using Ratchet;
using Ratchet.Serialization;
using Ratchet.Sqlite;
using Ratchet.Storage;

// A child process for the multi-process tests. Protocol, one line each on stdout:
//   ready                       the store is open and this writer's workflow exists
//   (with --wait-for-go it then reads one line from stdin before writing, so that several writers start together)
//   done <count> <conflicts>    every change set committed; conflicts = transaction attempts that had to run again
// Each change set increments the shared counter (shared/counter) in an optimistic transaction and appends an
// "increment" event to this writer's own workflow with the counter value it wrote, so the parent can check that no
// update was lost (the values are exactly 1..total) and that every event is present.
// Exit codes: 0 done, 1 a store error (message on stderr), 2 bad arguments.
if (args.Length < 3 || !int.TryParse(args[2], out var count) || count < 0)
{
    await Console.Error.WriteLineAsync("usage: Ratchet.Sqlite.TestWriter <db-path> <writer-name> <count> [--wait-for-go]");
    return 2;
}

var path = args[0];
var name = args[1];
var waitForGo = args.Skip(3).Contains("--wait-for-go");

try
{
    await using var store = await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions
    {
        Path = path,
        BusyTimeout = TimeSpan.FromSeconds(30),
    });
    await new WorkflowCreator(store).CreateAsync(new NewWorkflow { Id = name, Type = "multi-process-writer" });

    Console.WriteLine("ready");
    if (waitForGo && await Console.In.ReadLineAsync() != "go")
    {
        await Console.Error.WriteLineAsync("expected 'go' on stdin");
        return 2;
    }

    var conflicts = 0;
    var options = new TransactionOptions { MaxAttempts = 100_000 };
    for (var i = 1; i <= count; i++)
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
                    ["writer"] = name,
                    ["index"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["counter"] = next.ToString(System.Globalization.CultureInfo.InvariantCulture),
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
