using System.CommandLine;
using System.Globalization;
using Ratchet.Hosting;
using Ratchet.Storage;
using Spectre.Console;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>migrate --from URI --to URI</c> and <c>kv migrate</c>: copies a store into another of any backend through
/// <see cref="StoreMigration"/>, with live progress and a verification of counts and checksums at the end.
/// </summary>
internal static class MigrateCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        var (from, to, merge, batchSize) = CommonOptions();
        var command = new Command("migrate", "Copy everything (workflows, journals, events, commands, workspaces, key-value state, checkpoints) from one store to another of any backend, then verify counts and checksums. Stop the workers of both stores first.")
        {
            from, to, merge, batchSize,
        };
        command.SetAction(RatchetCli.Action(output, error, (context, parse, cancellationToken) =>
            RunAsync(context, parse.GetValue(from)!, parse.GetValue(to)!, new MigrationOptions { Merge = parse.GetValue(merge), BatchSize = parse.GetValue(batchSize) }, StoreMigration.MigrateAsync, cancellationToken)));
        yield return command;
    }

    /// <summary>The <c>kv migrate</c> subcommand; <paramref name="ns"/> is the kv command's namespace option (all namespaces unless given).</summary>
    public static Command KeyValues(TextWriter output, TextWriter error, Option<string> ns)
    {
        var (from, to, merge, batchSize) = CommonOptions();
        var command = new Command("migrate", "Copy key-value state and checkpoints (all namespaces, or only --ns NS) from one store to another, then verify counts and checksums.")
        {
            from, to, merge, batchSize,
        };
        command.SetAction(RatchetCli.Action(output, error, (context, parse, cancellationToken) =>
        {
            var namespaces = parse.GetResult(ns) is { Implicit: false } ? new[] { parse.GetValue(ns)! } : null;
            var options = new MigrationOptions { Merge = parse.GetValue(merge), BatchSize = parse.GetValue(batchSize), Namespaces = namespaces };
            return RunAsync(context, parse.GetValue(from)!, parse.GetValue(to)!, options, StoreMigration.MigrateKeyValuesAsync, cancellationToken);
        }));
        return command;
    }

    private static (Option<string> From, Option<string> To, Option<bool> Merge, Option<int> BatchSize) CommonOptions()
    {
        var from = new Option<string>("--from") { Description = "The store to copy from (sqlite:PATH, files:FOLDER, postgres://..., redis://...). It is only read.", Required = true };
        var to = new Option<string>("--to") { Description = "The store to copy into; created if it does not exist. Must be empty unless --merge.", Required = true };
        var merge = new Option<bool>("--merge") { Description = "Write into a store that holds data: keep every record it has, add the missing ones. Also finishes an interrupted migration." };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "How many workflows go into one atomic write (default 200).",
            DefaultValueFactory = _ => 200,
        };
        batchSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--batch-size must be at least 1.");
            }
        });
        return (from, to, merge, batchSize);
    }

    private static async Task<int> RunAsync(
        CliContext context, string fromUri, string toUri, MigrationOptions options,
        Func<IRatchetStore, IRatchetStore, MigrationOptions, CancellationToken, Task<MigrationReport>> migrate, CancellationToken cancellationToken)
    {
        var from = StoreProviders.Resolve(fromUri);
        var to = StoreProviders.Resolve(toUri);
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            throw new UsageException($"--from and --to name the same store ({StoreUri.Redact(fromUri)}); name two different stores.");
        }

        StoreProviders.Default.Parse(from).RequireExisting();
        await using var source = await context.OpenStoreAsync(from, cancellationToken);
        await using var target = await context.OpenStoreAsync(to, cancellationToken);
        MigrationReport report;
        try
        {
            report = context.IsTerminal && !context.Json
                ? await WithProgressBarAsync(context, options, o => migrate(source, target, o, cancellationToken))
                : await migrate(source, target, options with { Progress = context.Json ? null : new PlainProgress(context.Error) }, cancellationToken);
        }
        catch (StoreNotEmptyException)
        {
            throw new UsageException($"The target {target.Description} already holds data; nothing was copied. Migrate into an empty store, or pass --merge to keep its records and add the missing ones.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync($"ratchet: the migration was interrupted; whole batches were copied. Run it again with --merge to copy the rest.");
            throw;
        }

        if (context.Json)
        {
            context.WriteJson(report);
            return ExitCodes.Ok;
        }

        context.WriteTable(
            ["records", "in source", "copied", "in target", "checksum", "verified"],
            report.Sections.Select(s => (IReadOnlyList<string>)
            [
                s.Kind, Count(s.SourceCount), Count(s.CopiedCount), Count(s.TargetCount), s.SourceChecksum[..16], s.Matches ? "yes" : "NO",
            ]));
        var kept = report.Kept > 0 ? $" {Count(report.Kept)} records the target already had were kept." : "";
        await context.Output.WriteLineAsync(
            $"Copied {report.Source} to {report.Target} in {report.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s; every copied record reads back identical.{kept}");
        return ExitCodes.Ok;
    }

    private static async Task<MigrationReport> WithProgressBarAsync(CliContext context, MigrationOptions options, Func<MigrationOptions, Task<MigrationReport>> migrate)
    {
        MigrationReport? report = null;
        await context.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var tasks = new Dictionary<MigrationStage, ProgressTask>();
                var sink = new CallbackProgress(update =>
                {
                    if (!tasks.TryGetValue(update.Stage, out var task))
                    {
                        task = progress.AddTask(StageName(update.Stage), maxValue: Math.Max(update.Total, 1));
                        tasks[update.Stage] = task;
                    }

                    task.MaxValue = Math.Max(update.Total, Math.Max(update.Done, 1));
                    task.Value = update.Done;
                    if (update.Stage == MigrationStage.Counting)
                    {
                        task.Description = $"counting workflows: {Count(update.Done)}";
                    }
                });
                report = await migrate(options with { Progress = sink });
                foreach (var task in tasks.Values)
                {
                    task.Value = task.MaxValue;
                    task.StopTask();
                }
            });
        return report!;
    }

    private static string StageName(MigrationStage stage) => stage switch
    {
        MigrationStage.Counting => "counting workflows",
        MigrationStage.Workflows => "workflows",
        MigrationStage.KeyValues => "key-value namespaces",
        _ => "verifying",
    };

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Off a terminal: a line per stage and every tenth of the way, on standard error.</summary>
    private sealed class PlainProgress(TextWriter error) : IProgress<MigrationProgress>
    {
        private MigrationStage? _stage;
        private long _lastTenth = -1;

        public void Report(MigrationProgress value)
        {
            if (value.Stage == MigrationStage.Counting)
            {
                return;
            }

            var tenth = value.Total == 0 ? 10 : value.Done * 10 / value.Total;
            if (value.Stage != _stage || tenth != _lastTenth)
            {
                _stage = value.Stage;
                _lastTenth = tenth;
                error.WriteLine($"{StageName(value.Stage)}: {Count(value.Done)}/{Count(value.Total)}");
            }
        }
    }

    private sealed class CallbackProgress(Action<MigrationProgress> onReport) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => onReport(value);
    }
}
