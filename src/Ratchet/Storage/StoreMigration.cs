using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ratchet.Serialization;

namespace Ratchet.Storage;

/// <summary>How a migration copies.</summary>
public sealed record MigrationOptions
{
    /// <summary>
    /// Write into a target that already holds data, keeping every record it has (a workflow, value or checkpoint the
    /// target already has is left as it is; the rest is added). Also how an interrupted migration is finished: run it
    /// again with Merge and it copies what is missing.
    /// </summary>
    public bool Merge { get; init; }

    /// <summary>How many workflows (with their journals, events, commands and workspaces) go into one atomic write.</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>The key-value namespaces to copy; null for all of them.</summary>
    public IReadOnlyList<string>? Namespaces { get; init; }

    /// <summary>Told after every batch and at each stage's start and end.</summary>
    public IProgress<MigrationProgress>? Progress { get; init; }
}

/// <summary>The stages of a migration, in order.</summary>
public enum MigrationStage
{
    /// <summary>Counting what the source holds, so that progress has a total.</summary>
    Counting,

    /// <summary>Copying workflows with their journals, events, commands and workspaces.</summary>
    Workflows,

    /// <summary>Copying key-value namespaces with their checkpoints.</summary>
    KeyValues,

    /// <summary>Reading the copies back from the target and comparing counts and checksums.</summary>
    Verifying,
}

/// <summary>Where a migration is: <paramref name="Done"/> of <paramref name="Total"/> items of the stage.</summary>
public sealed record MigrationProgress(MigrationStage Stage, long Done, long Total);

/// <summary>
/// One kind of record in a migration: how many the source held, how many were copied and how many the target now holds
/// of them, with order-independent checksums of the copied records' canonical JSON on both sides.
/// </summary>
public sealed record MigrationSection(string Kind, long SourceCount, long CopiedCount, long TargetCount, string SourceChecksum, string TargetChecksum)
{
    /// <summary>Whether the target holds exactly what was copied.</summary>
    public bool Matches => CopiedCount == TargetCount && string.Equals(SourceChecksum, TargetChecksum, StringComparison.Ordinal);
}

/// <summary>What a migration did and what its verification found.</summary>
public sealed record MigrationReport
{
    /// <summary>The source store's description.</summary>
    public required string Source { get; init; }

    /// <summary>The target store's description.</summary>
    public required string Target { get; init; }

    /// <summary>Per kind of record: workflows, steps, events, commands, workspaces, values, checkpoints.</summary>
    public required IReadOnlyList<MigrationSection> Sections { get; init; }

    /// <summary>Workflows, values and checkpoints the target already had and kept (merge only).</summary>
    public long Kept { get; init; }

    /// <summary>Whether every copied record reads back from the target identical to the source's.</summary>
    public bool Verified => Sections.All(s => s.Matches);

    /// <summary>How long it took.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>Thrown when a migration's copy does not read back identical from the target; the report says where.</summary>
public sealed class MigrationVerificationException(MigrationReport report)
    : RatchetException(
        $"The copy in {report.Target} does not match {report.Source}: " +
        string.Join("; ", report.Sections.Where(s => !s.Matches).Select(s =>
            string.Create(CultureInfo.InvariantCulture, $"{s.Kind} copied {s.CopiedCount}, target holds {s.TargetCount}{(s.CopiedCount == s.TargetCount ? " with other contents" : "")}"))) +
        ". The source is unchanged; look for a process writing to either store, then migrate again into an empty target.")
{
    /// <summary>What was copied and what was found.</summary>
    public MigrationReport Report { get; } = report;

    /// <inheritdoc />
    public override string ErrorCode => "migration-mismatch";
}

/// <summary>
/// Copies everything from one store to another, whatever their backends: workflows with their journals, audit events,
/// commands and workspaces, key-value state and checkpoints, with every id, version, sequence and time kept. Copies in
/// atomic batches (progress is reported per batch), then reads the copies back from the target and compares counts and
/// checksums.
/// </summary>
/// <remarks>
/// Stop the workers of both stores first: records written to the source during the copy may be missed. A migration that
/// was interrupted leaves whole batches in the target; run it again with <see cref="MigrationOptions.Merge"/> to copy the
/// rest. Only records that were copied are compared, so a merge never reports the target's own records as differences.
/// </remarks>
public static class StoreMigration
{
    private const int ReadParallelism = 8;

    /// <summary>Copies everything <paramref name="source"/> holds into <paramref name="target"/> and verifies the copy.</summary>
    /// <exception cref="StoreNotEmptyException">The target holds data and <see cref="MigrationOptions.Merge"/> is off; nothing was written.</exception>
    /// <exception cref="MigrationVerificationException">The copy does not read back identical.</exception>
    public static Task<MigrationReport> MigrateAsync(IRatchetStore source, IRatchetStore target, MigrationOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(source, target, options ?? new MigrationOptions(), includeWorkflows: true, cancellationToken);

    /// <summary>Copies only key-value state and checkpoints (all namespaces, or <see cref="MigrationOptions.Namespaces"/>), and verifies the copy.</summary>
    /// <exception cref="StoreNotEmptyException">A namespace to copy already exists in the target and <see cref="MigrationOptions.Merge"/> is off; nothing was written.</exception>
    /// <exception cref="MigrationVerificationException">The copy does not read back identical.</exception>
    public static Task<MigrationReport> MigrateKeyValuesAsync(IRatchetStore source, IRatchetStore target, MigrationOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(source, target, options ?? new MigrationOptions(), includeWorkflows: false, cancellationToken);

    private static async Task<MigrationReport> RunAsync(IRatchetStore source, IRatchetStore target, MigrationOptions options, bool includeWorkflows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options));
        if (ReferenceEquals(source, target))
        {
            throw new ArgumentException("The source and the target are the same store.", nameof(target));
        }

        var started = TimeProvider.System.GetTimestamp();
        var run = new MigrationRun(source, target, options);
        var namespaces = await run.SelectNamespacesAsync(cancellationToken);
        var workflowTotal = includeWorkflows ? await run.CountWorkflowsAsync(cancellationToken) : 0;
        if (!options.Merge)
        {
            await run.RequireEmptyTargetAsync(includeWorkflows, namespaces, cancellationToken);
        }

        if (includeWorkflows)
        {
            await run.CopyWorkflowsAsync(workflowTotal, cancellationToken);
        }

        await run.CopyKeyValuesAsync(namespaces, cancellationToken);
        await run.VerifyAsync(includeWorkflows, cancellationToken);
        var report = run.Report(includeWorkflows, TimeProvider.System.GetElapsedTime(started));
        return report.Verified ? report : throw new MigrationVerificationException(report);
    }

    /// <summary>The state of one migration: what was copied, and the running checksums of both sides.</summary>
    private sealed class MigrationRun(IRatchetStore source, IRatchetStore target, MigrationOptions options)
    {
        private readonly Dictionary<string, Tally> _source = NewTallies();
        private readonly Dictionary<string, Tally> _copied = NewTallies();
        private readonly Dictionary<string, Tally> _target = NewTallies();
        private readonly List<string> _copiedWorkflows = [];
        private readonly Dictionary<string, HashSet<string>> _copiedKeys = new(StringComparer.Ordinal);
        private readonly Dictionary<string, HashSet<string>> _copiedCheckpoints = new(StringComparer.Ordinal);
        private long _kept;

        private static readonly string[] Kinds = ["workflows", "steps", "events", "commands", "workspaces", "signals", "values", "checkpoints"];

        private static Dictionary<string, Tally> NewTallies() => Kinds.ToDictionary(k => k, _ => new Tally(), StringComparer.Ordinal);

        private static WorkflowQuery Everything => new() { IncludeArchived = true };

        public async Task<IReadOnlyList<string>> SelectNamespacesAsync(CancellationToken cancellationToken)
        {
            var all = await source.ListNamespacesAsync(cancellationToken);
            if (options.Namespaces is null)
            {
                return all;
            }

            foreach (var requested in options.Namespaces)
            {
                KeyValueNames.ValidateName(requested, "namespace", nameof(options));
                if (!all.Contains(requested, StringComparer.Ordinal))
                {
                    throw new ArgumentException($"The source {source.Description} has no namespace '{requested}'; it has: {(all.Count == 0 ? "none" : string.Join(", ", all))}.", nameof(options));
                }
            }

            return options.Namespaces.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        }

        public async Task<long> CountWorkflowsAsync(CancellationToken cancellationToken)
        {
            options.Progress?.Report(new MigrationProgress(MigrationStage.Counting, 0, 0));
            long count = 0;
            await foreach (var page in source.ReadWorkflowPagesAsync(Everything, WorkflowQuery.MaxLimit, cancellationToken))
            {
                count += page.Count;
                options.Progress?.Report(new MigrationProgress(MigrationStage.Counting, count, 0));
            }

            return count;
        }

        public async Task RequireEmptyTargetAsync(bool includeWorkflows, IReadOnlyList<string> namespaces, CancellationToken cancellationToken)
        {
            var targetNamespaces = await target.ListNamespacesAsync(cancellationToken);
            var hasWorkflows = (await target.ListWorkflowsAsync(Everything with { Limit = 1 }, cancellationToken)).Items.Count > 0;
            var clash = includeWorkflows ? hasWorkflows || targetNamespaces.Count > 0 : namespaces.Any(n => targetNamespaces.Contains(n, StringComparer.Ordinal));
            if (clash)
            {
                throw new StoreNotEmptyException(target.Description);
            }
        }

        public async Task CopyWorkflowsAsync(long total, CancellationToken cancellationToken)
        {
            long done = 0;
            options.Progress?.Report(new MigrationProgress(MigrationStage.Workflows, 0, total));
            await foreach (var page in source.ReadWorkflowPagesAsync(Everything, options.BatchSize, cancellationToken))
            {
                var batch = await ReadFamiliesAsync(source, page, cancellationToken);
                var existing = options.Merge ? await ExistingAsync(page, cancellationToken) : [];
                var toCopy = batch.Where(f => !existing.Contains(f.Workflow.Id)).ToArray();
                foreach (var family in batch)
                {
                    family.AddTo(_source);
                }

                foreach (var family in toCopy)
                {
                    family.AddTo(_copied);
                    _copiedWorkflows.Add(family.Workflow.Id);
                }

                _kept += batch.Length - toCopy.Length;
                if (toCopy.Length > 0)
                {
                    await target.ImportAsync(Family.ToSnapshot(toCopy), ImportMode.Merge, cancellationToken);
                }

                done += page.Count;
                options.Progress?.Report(new MigrationProgress(MigrationStage.Workflows, done, total));
            }
        }

        public async Task CopyKeyValuesAsync(IReadOnlyList<string> namespaces, CancellationToken cancellationToken)
        {
            options.Progress?.Report(new MigrationProgress(MigrationStage.KeyValues, 0, namespaces.Count));
            for (var index = 0; index < namespaces.Count; index++)
            {
                var @namespace = namespaces[index];
                var values = await source.ListValuesAsync(@namespace, cancellationToken);
                var checkpoints = await ReadCheckpointsAsync(source, @namespace, cancellationToken);
                var targetKeys = options.Merge ? (await target.ListValuesAsync(@namespace, cancellationToken)).Select(v => v.Key).ToHashSet(StringComparer.Ordinal) : [];
                var targetCheckpoints = options.Merge ? (await target.ListCheckpointsAsync(@namespace, cancellationToken)).Select(c => c.Name).ToHashSet(StringComparer.Ordinal) : [];
                var valuesToCopy = values.Where(v => !targetKeys.Contains(v.Key)).ToArray();
                var checkpointsToCopy = checkpoints.Where(c => !targetCheckpoints.Contains(c.Name)).ToArray();
                _source["values"].AddAll(values, RatchetJsonContext.Default.KeyValueEntry);
                _source["checkpoints"].AddAll(checkpoints, RatchetJsonContext.Default.CheckpointRecord);
                _copied["values"].AddAll(valuesToCopy, RatchetJsonContext.Default.KeyValueEntry);
                _copied["checkpoints"].AddAll(checkpointsToCopy, RatchetJsonContext.Default.CheckpointRecord);

                _copiedKeys[@namespace] = valuesToCopy.Select(v => v.Key).ToHashSet(StringComparer.Ordinal);
                _copiedCheckpoints[@namespace] = checkpointsToCopy.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
                _kept += values.Count - valuesToCopy.Length + checkpoints.Count - checkpointsToCopy.Length;
                if (valuesToCopy.Length > 0 || checkpointsToCopy.Length > 0)
                {
                    await target.ImportAsync(new StoreSnapshot { Values = valuesToCopy, Checkpoints = checkpointsToCopy }, ImportMode.Merge, cancellationToken);
                }

                options.Progress?.Report(new MigrationProgress(MigrationStage.KeyValues, index + 1, namespaces.Count));
            }
        }

        /// <summary>Reads every copied record back from the target into the target tallies.</summary>
        public async Task VerifyAsync(bool includeWorkflows, CancellationToken cancellationToken)
        {
            long total = _copiedWorkflows.Count + _copiedKeys.Count;
            long done = 0;
            options.Progress?.Report(new MigrationProgress(MigrationStage.Verifying, 0, total));
            foreach (var chunk in _copiedWorkflows.Chunk(options.BatchSize))
            {
                var workflows = new List<WorkflowRecord>(chunk.Length);
                foreach (var id in chunk)
                {
                    if (await target.GetWorkflowAsync(id, cancellationToken) is { } workflow)
                    {
                        workflows.Add(workflow);
                    }
                }

                foreach (var family in await ReadFamiliesAsync(target, workflows, cancellationToken))
                {
                    family.AddTo(_target);
                }

                done += chunk.Length;
                options.Progress?.Report(new MigrationProgress(MigrationStage.Verifying, done, total));
            }

            if (includeWorkflows && !options.Merge)
            {
                // An empty target must now hold exactly the source's workflows: nothing more.
                long targetWorkflows = 0;
                await foreach (var page in target.ReadWorkflowPagesAsync(Everything, WorkflowQuery.MaxLimit, cancellationToken))
                {
                    targetWorkflows += page.Count;
                }

                if (targetWorkflows != _copiedWorkflows.Count)
                {
                    _target["workflows"].Count += targetWorkflows - _copiedWorkflows.Count;
                }
            }

            foreach (var (@namespace, keys) in _copiedKeys)
            {
                foreach (var value in await target.ListValuesAsync(@namespace, cancellationToken))
                {
                    if (keys.Contains(value.Key))
                    {
                        _target["values"].Add(value, RatchetJsonContext.Default.KeyValueEntry);
                    }
                }

                foreach (var checkpoint in await ReadCheckpointsAsync(target, @namespace, cancellationToken))
                {
                    if (_copiedCheckpoints[@namespace].Contains(checkpoint.Name))
                    {
                        _target["checkpoints"].Add(checkpoint, RatchetJsonContext.Default.CheckpointRecord);
                    }
                }

                done++;
                options.Progress?.Report(new MigrationProgress(MigrationStage.Verifying, done, total));
            }
        }

        public MigrationReport Report(bool includeWorkflows, TimeSpan elapsed) => new()
        {
            Source = source.Description,
            Target = target.Description,
            Sections = Kinds.Where(k => includeWorkflows || k is "values" or "checkpoints")
                .Select(k => new MigrationSection(k, _source[k].Count, _copied[k].Count, _target[k].Count, _copied[k].Checksum, _target[k].Checksum))
                .ToArray(),
            Kept = _kept,
            Elapsed = elapsed,
        };

        private async Task<HashSet<string>> ExistingAsync(IReadOnlyList<WorkflowRecord> page, CancellationToken cancellationToken)
        {
            var existing = new HashSet<string>(StringComparer.Ordinal);
            foreach (var workflow in page)
            {
                if (await target.GetWorkflowAsync(workflow.Id, cancellationToken) is not null)
                {
                    existing.Add(workflow.Id);
                }
            }

            return existing;
        }
    }

    /// <summary>Every checkpoint of a namespace with its values, read one at a time.</summary>
    private static async Task<List<CheckpointRecord>> ReadCheckpointsAsync(IRatchetStore store, string @namespace, CancellationToken cancellationToken)
    {
        var checkpoints = new List<CheckpointRecord>();
        foreach (var info in await store.ListCheckpointsAsync(@namespace, cancellationToken))
        {
            if (await store.GetCheckpointAsync(@namespace, info.Name, cancellationToken) is { } checkpoint)
            {
                checkpoints.Add(checkpoint);
            }
        }

        return checkpoints;
    }

    /// <summary>Reads each workflow's journal, events, commands, workspace and pending signals, a few workflows at a time.</summary>
    private static async Task<Family[]> ReadFamiliesAsync(IRatchetStore store, IReadOnlyList<WorkflowRecord> workflows, CancellationToken cancellationToken)
    {
        var families = new Family[workflows.Count];
        await Parallel.ForAsync(0, workflows.Count, new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = cancellationToken }, async (index, token) =>
        {
            var workflow = workflows[index];
            families[index] = new Family(
                workflow,
                await store.GetStepsAsync(workflow.Id, token),
                await store.GetEventsAsync(workflow.Id, cancellationToken: token),
                await store.GetCommandsAsync(workflow.Id, token),
                await store.GetWorkspaceAsync(workflow.Id, token),
                await store.GetPendingSignalsAsync(workflow.Id, token));
        });
        return families;
    }

    /// <summary>A workflow with everything that belongs to it.</summary>
    private sealed record Family(
        WorkflowRecord Workflow,
        IReadOnlyList<StepRecord> Steps,
        IReadOnlyList<AuditEvent> Events,
        IReadOnlyList<CommandExecution> Commands,
        WorkspaceRecord? Workspace,
        IReadOnlyList<SignalRecord> Signals)
    {
        public void AddTo(Dictionary<string, Tally> tallies)
        {
            tallies["workflows"].Add(Workflow, RatchetJsonContext.Default.WorkflowRecord);
            tallies["steps"].AddAll(Steps, RatchetJsonContext.Default.StepRecord);
            tallies["events"].AddAll(Events, RatchetJsonContext.Default.AuditEvent);
            tallies["commands"].AddAll(Commands, RatchetJsonContext.Default.CommandExecution);

            if (Workspace is not null)
            {
                tallies["workspaces"].Add(Workspace, RatchetJsonContext.Default.WorkspaceRecord);
            }

            tallies["signals"].AddAll(Signals, RatchetJsonContext.Default.SignalRecord);
        }

        public static StoreSnapshot ToSnapshot(IReadOnlyList<Family> families) => new StoreSnapshot
        {
            Workflows = families.Select(f => f.Workflow).ToArray(),
            Steps = families.SelectMany(f => f.Steps).ToArray(),
            Events = families.SelectMany(f => f.Events).ToArray(),
            Commands = families.SelectMany(f => f.Commands).ToArray(),
            Workspaces = families.Select(f => f.Workspace).OfType<WorkspaceRecord>().ToArray(),
            Signals = families.SelectMany(f => f.Signals).ToArray(),
        }.Canonicalize();
    }

    /// <summary>
    /// A count and an order-independent checksum (the sum of the records' SHA-256 prefixes): the two sides are read in
    /// different orders (paging by creation time, parallel reads), and a sum does not care.
    /// </summary>
    private sealed class Tally
    {
        private UInt128 _sum;

        public long Count { get; set; }

        public string Checksum => _sum.ToString("x32", CultureInfo.InvariantCulture);

        public void Add<T>(T record, JsonTypeInfo<T> typeInfo)
        {
            var hash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(record, typeInfo));
            _sum += new UInt128(BinaryPrimitives.ReadUInt64BigEndian(hash), BinaryPrimitives.ReadUInt64BigEndian(hash.AsSpan(8)));
            Count++;
        }

        public void AddAll<T>(IEnumerable<T> records, JsonTypeInfo<T> typeInfo)
        {
            foreach (var record in records)
            {
                Add(record, typeInfo);
            }
        }
    }
}
