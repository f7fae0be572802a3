using System.CommandLine;
using System.Globalization;
using Ratchet.Queues;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>queue set|list|show|remove</c>: the store's named queues through the library's <see cref="QueueCatalog"/>.
/// Every store counts a queue's slots and starts inside its claim, so the limits hold across all workers.
/// </summary>
internal static class QueueCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return new Command("queue", "Queues: limits on the workflows that name a queue (YAML `queue:`): at most N running across all workers, per worker, N starts per period, one at a time per partition key, higher priority first.")
        {
            Set(output, error),
            List(output, error),
            Show(output, error),
            Remove(output, error),
        };
    }

    private static Command Set(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("name") { Description = "The queue's name, as workflows name it in `queue:`." };
        var concurrency = new Option<int?>("--concurrency") { Description = "At most this many of its workflows run at once, across all workers." };
        var perWorker = new Option<int?>("--per-worker") { Description = "At most this many of its workflows run at once in one worker." };
        var rate = new Option<string?>("--rate") { Description = "At most COUNT starts per PERIOD, e.g. 5/1s, 100/1m, 10/500ms." };
        var partition = new Option<int?>("--partition-concurrency") { Description = "At most this many run at once per partition key (default 1)." };
        var command = new Command("set", "Set a queue's limits (replacing what it had). Workers apply them at their next claim.")
        {
            name, concurrency, perWorker, rate, partition,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var queueName = parse.GetValue(name)!;
            var (limit, period) = parse.GetValue(rate) is { } text ? QueueDefinition.ParseRate(queueName, text) : ((int?)null, (TimeSpan?)null);
            var queue = new QueueDefinition
            {
                Name = queueName,
                Concurrency = parse.GetValue(concurrency),
                PerWorker = parse.GetValue(perWorker),
                RateLimit = limit,
                RatePeriod = period,
                PartitionConcurrency = parse.GetValue(partition) ?? 1,
            };
            queue.Validate();
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var stored = await new QueueCatalog(store).SetAsync(queue, cancellationToken);
            return await context.ReportAsync(Json(stored, running: null, waiting: null), $"Set queue '{stored.Name}': {Limits(stored)}.");
        }));
        return command;
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        return new Command("list", "List the queues (set, or named by active workflows): limits, workflows running (holding a slot) and waiting. --json prints them.")
            .WithStoreAction(output, error, async (context, store, _, cancellationToken) =>
            {
                var queues = await new QueueCatalog(store).StatusAsync(cancellationToken);
                return await context.WriteListAsync(
                    queues,
                    () => context.WriteJson(queues.Select(q => Json(q.Definition ?? new QueueDefinition { Name = q.Name }, q.Running, q.Waiting)).ToArray()),
                    "No queues. Set one with `ratchet queue set NAME --concurrency 2 --rate 5/1s`, or name one in a workflow file (`queue: NAME`).",
                    ["QUEUE", "RUNNING", "WAITING", "CONCURRENCY", "PER WORKER", "RATE", "PER PARTITION"],
                    q =>
                    [
                        q.Name, Number(q.Running), Number(q.Waiting),
                        Number(q.Definition?.Concurrency), Number(q.Definition?.PerWorker), q.Definition?.RateText ?? "-",
                        Number(q.Definition?.PartitionConcurrency ?? 1),
                    ]);
            });
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("name") { Description = "The queue's name." };
        return new Command("show", "Show a queue's limits and its active workflows: those holding a slot first, then the waiting ones in the order they will be claimed.") { name }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var queueName = parse.GetValue(name)!;
                var catalog = new QueueCatalog(store);
                var definition = await catalog.FindAsync(queueName, cancellationToken);
                var workflows = await catalog.WorkflowsAsync(queueName, cancellationToken);
                if (definition is null && workflows.Count == 0)
                {
                    throw new QueueNotFoundException(queueName);
                }

                var now = TimeProvider.System.GetUtcNow();
                if (context.Json)
                {
                    context.WriteJson(new
                    {
                        queue = Json(definition ?? new QueueDefinition { Name = queueName }, workflows.Count(w => QueueCatalog.HoldsSlot(w, now)), workflows.Count(w => !QueueCatalog.HoldsSlot(w, now))),
                        workflows = workflows.Select(w => new { id = w.Id, type = w.Type, status = w.Status.ToString(), partition = w.QueuePartition, priority = w.QueuePriority, running = QueueCatalog.HoldsSlot(w, now), dueAt = w.DueAt, owner = w.LeaseOwner }),
                    });
                    return ExitCodes.Ok;
                }

                await context.Output.WriteLineAsync($"Queue '{queueName}': {(definition is null ? "not set (no limits; one at a time per partition)" : Limits(definition))}.");
                context.WriteTable(["ID", "TYPE", "STATUS", "SLOT", "PARTITION", "PRIORITY", "DUE"], workflows.Select(w => (IReadOnlyList<string>)
                [
                    w.Id, w.Type, w.Status.ToString(), QueueCatalog.HoldsSlot(w, now) ? "running" : "waiting", w.QueuePartition ?? "", Number(w.QueuePriority),
                    w.DueAt?.ToString("u", CultureInfo.InvariantCulture) ?? "",
                ]));
                return ExitCodes.Ok;
            });
    }

    private static Command Remove(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("name") { Description = "The queue's name." };
        return new Command("remove", "Remove a queue's limits; its workflows keep their place and run without limits (one at a time per partition).") { name }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                await new QueueCatalog(store).RemoveAsync(parse.GetValue(name)!, cancellationToken);
                await context.Output.WriteLineAsync($"Removed the limits of queue '{parse.GetValue(name)}'.");
                return ExitCodes.Ok;
            });
    }

    /// <summary>A queue's limits in words, for the screen.</summary>
    internal static string Limits(QueueDefinition queue)
    {
        var parts = new List<string>();
        if (queue.Concurrency is { } concurrency)
        {
            parts.Add($"at most {concurrency} running");
        }

        if (queue.PerWorker is { } perWorker)
        {
            parts.Add($"{perWorker} per worker");
        }

        if (queue.RateText is { } rate)
        {
            parts.Add($"{rate} starts");
        }

        parts.Add($"{queue.PartitionConcurrency} at a time per partition");
        return string.Join(", ", parts);
    }

    private static Dictionary<string, object?> Json(QueueDefinition queue, int? running, int? waiting) => new()
    {
        ["name"] = queue.Name,
        ["concurrency"] = queue.Concurrency,
        ["perWorker"] = queue.PerWorker,
        ["rate"] = queue.RateText,
        ["partitionConcurrency"] = queue.PartitionConcurrency,
        ["running"] = running,
        ["waiting"] = waiting,
    };

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
