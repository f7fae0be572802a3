using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Files;

/// <summary>
/// One operation's view of the store: what it read from the files, with its own changes laid over them. Nothing
/// reaches the disk until <see cref="BuildPlan"/>'s operations are committed, so an operation that throws half-way
/// (a failed check, a missing workflow) writes nothing.
/// </summary>
internal sealed class FilesSession
{
    private const string WorkflowsFolder = "workflows";
    private const string KeyValueFolder = "kv";

    /// <summary>The files of a workflow's folder besides <c>state.json</c>.</summary>
    private static readonly string[] RecordFiles = ["steps.jsonl", "events.jsonl", "commands.jsonl", "workspace.json", "signals.jsonl"];

    private readonly FilesDisk _disk;
    private readonly Dictionary<string, WorkflowRecord?> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StepRecord>> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<AuditEvent>> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<CommandExecution>> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WorkspaceRecord?> _workspaces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<SignalRecord>> _signals = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Key), KeyValueEntry?> _values = [];
    private readonly Dictionary<(string Namespace, string Name), CheckpointRecord?> _checkpoints = [];
    private readonly HashSet<(FileKind Kind, string Id)> _dirty = [];
    private readonly HashSet<(string Namespace, string Key)> _dirtyValues = [];
    private readonly HashSet<(string Namespace, string Name)> _dirtyCheckpoints = [];
    private readonly List<(string File, StoreCorruptException Error)> _damagedWorkflows = [];
    private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);
    private readonly string _operation;
    private bool _allWorkflowsLoaded;

    /// <param name="disk">The store's files.</param>
    /// <param name="now">The store's time for this operation.</param>
    /// <param name="operation">The store method running, for warnings.</param>
    public FilesSession(FilesDisk disk, DateTimeOffset now, string operation)
    {
        _disk = disk;
        Now = now;
        _operation = operation;
    }

    private enum FileKind
    {
        State,
        Steps,
        Events,
        Commands,
        Workspace,
        Signals,
    }

    /// <summary>The store's time for this operation, whole microseconds.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>Whether a read of many files left a damaged one out: the store holds more than it returned.</summary>
    public bool SkippedDamaged { get; private set; }

    // ---- paths ------------------------------------------------------------------------------------------------

    private static string WorkflowFolder(string id) => WorkflowsFolder + "/" + FileNames.Encode(id);

    private static string PathOf(FileKind kind, string id) => WorkflowFolder(id) + "/" + kind switch
    {
        FileKind.State => "state.json",
        FileKind.Steps => "steps.jsonl",
        FileKind.Events => "events.jsonl",
        FileKind.Commands => "commands.jsonl",
        FileKind.Signals => "signals.jsonl",
        _ => "workspace.json",
    };

    private static string NamespaceFolder(string @namespace) => KeyValueFolder + "/" + FileNames.Encode(@namespace);

    private static string ValuePath(string @namespace, string key) => NamespaceFolder(@namespace) + "/values/" + FileNames.Encode(key) + ".json";

    private static string CheckpointPath(string @namespace, string name) => NamespaceFolder(@namespace) + "/checkpoints/" + FileNames.Encode(name) + ".json";

    // ---- reads ------------------------------------------------------------------------------------------------

    public WorkflowRecord? Workflow(string id)
    {
        if (_workflows.TryGetValue(id, out var cached))
        {
            return cached;
        }

        var folder = WorkflowFolder(id);
        var record = ReadState(folder, DropWorkflow(id));
        if (record is not null && !string.Equals(record.Id, id, StringComparison.Ordinal))
        {
            throw new StoreCorruptException($"The file '{_disk.Full(folder + "/state.json")}' holds workflow '{record.Id}' instead of '{id}'; repair or remove it.");
        }

        _workflows[id] = record;
        return record;
    }

    /// <summary>
    /// Every readable workflow. A damaged one is left out with a warning (<see cref="OnDamage.Skip"/>), so that one
    /// bad folder does not stop listings, claims and writes to the others; or it refuses the whole read.
    /// </summary>
    public List<WorkflowRecord> AllWorkflows(OnDamage onDamage)
    {
        if (!_allWorkflowsLoaded)
        {
            foreach (var folder in _disk.Folders(WorkflowsFolder))
            {
                try
                {
                    if (ReadState(folder, $"delete the folder '{_disk.Full(folder)}' to drop that workflow") is { } record)
                    {
                        _workflows.TryAdd(record.Id, record);
                    }
                }
                catch (StoreCorruptException ex)
                {
                    _damagedWorkflows.Add((folder + "/state.json", ex));
                }
            }

            _allWorkflowsLoaded = true;
        }

        foreach (var (file, error) in _damagedWorkflows)
        {
            Skip(file, error, onDamage);
        }

        return _workflows.Values.OfType<WorkflowRecord>().ToList();
    }

    public List<StepRecord> Steps(string id) => Lines(_steps, FileKind.Steps, id, FilesJson.ParseSteps);

    public List<AuditEvent> Events(string id) => Lines(_events, FileKind.Events, id, FilesJson.ParseEvents);

    public List<CommandExecution> Commands(string id) => Lines(_commands, FileKind.Commands, id, FilesJson.ParseCommands);

    /// <summary>The workflow's pending signals, in sequence order (one file, replaced whole on every send and consume).</summary>
    public List<SignalRecord> Signals(string id) => Lines(_signals, FileKind.Signals, id, FilesJson.ParseSignals);

    /// <summary>Whether the workflow's events can be read (and appended to); a damaged file is skipped with a warning.</summary>
    public bool EventsReadable(string id)
    {
        try
        {
            Events(id);
            return true;
        }
        catch (StoreCorruptException ex)
        {
            Skip(PathOf(FileKind.Events, id), ex, OnDamage.Skip);
            return false;
        }
    }

    public WorkspaceRecord? Workspace(string id) =>
        Cached(_workspaces, id, PathOf(FileKind.Workspace, id), FilesJson.ParseWorkspace, DropWorkflow(id));

    /// <summary>The workflow's workspace, or null with a warning when its file is damaged (for listings).</summary>
    public WorkspaceRecord? WorkspaceOrSkip(string id)
    {
        try
        {
            return Workspace(id);
        }
        catch (StoreCorruptException ex)
        {
            Skip(PathOf(FileKind.Workspace, id), ex, OnDamage.Skip);
            return null;
        }
    }

    public KeyValueEntry? Value(string @namespace, string key) =>
        Cached(_values, (@namespace, key), ValuePath(@namespace, key), FilesJson.ParseValue, $"delete it and its .bak to drop key '{key}' of namespace '{@namespace}'");

    /// <summary>
    /// The namespace's entries, ordered by key (ordinal). A damaged entry refuses the whole read: a namespace is read
    /// as one state (a checkpoint copies it, a restore replaces it), and leaving a key out would misstate it.
    /// </summary>
    public List<KeyValueEntry> Values(string @namespace)
    {
        foreach (var file in _disk.Files(NamespaceFolder(@namespace) + "/values", ".json"))
        {
            var entry = _disk.Read(file, FilesJson.ParseValue, $"delete it and its .bak to drop that key of namespace '{@namespace}'");
            if (entry is not null && string.Equals(entry.Namespace, @namespace, StringComparison.Ordinal))
            {
                _values.TryAdd((entry.Namespace, entry.Key), entry);
            }
        }

        return _values.Where(p => string.Equals(p.Key.Namespace, @namespace, StringComparison.Ordinal) && p.Value is not null)
            .Select(p => p.Value!)
            .OrderBy(v => v.Key, StringComparer.Ordinal)
            .ToList();
    }

    public CheckpointRecord? Checkpoint(string @namespace, string name) =>
        Cached(_checkpoints, (@namespace, name), CheckpointPath(@namespace, name), FilesJson.ParseCheckpoint, $"delete it and its .bak to drop checkpoint '{name}' of namespace '{@namespace}'");

    public List<CheckpointRecord> Checkpoints(string @namespace, OnDamage onDamage)
    {
        foreach (var file in _disk.Files(NamespaceFolder(@namespace) + "/checkpoints", ".json"))
        {
            if (ReadOrSkip(file, FilesJson.ParseCheckpoint, $"delete it and its .bak to drop that checkpoint of namespace '{@namespace}'", onDamage) is { } checkpoint &&
                string.Equals(checkpoint.Namespace, @namespace, StringComparison.Ordinal))
            {
                _checkpoints.TryAdd((checkpoint.Namespace, checkpoint.Name), checkpoint);
            }
        }

        return _checkpoints.Where(p => string.Equals(p.Key.Namespace, @namespace, StringComparison.Ordinal) && p.Value is not null)
            .Select(p => p.Value!)
            .ToList();
    }

    /// <summary>Every namespace that holds a value or a checkpoint (names read from the files, never from folder names).</summary>
    public List<string> Namespaces(OnDamage onDamage)
    {
        foreach (var folder in _disk.Folders(KeyValueFolder))
        {
            foreach (var file in _disk.Files(folder + "/values", ".json"))
            {
                if (ReadOrSkip(file, FilesJson.ParseValue, "delete it and its .bak to drop that key", onDamage) is { } entry)
                {
                    _values.TryAdd((entry.Namespace, entry.Key), entry);
                }
            }

            foreach (var file in _disk.Files(folder + "/checkpoints", ".json"))
            {
                if (ReadOrSkip(file, FilesJson.ParseCheckpoint, "delete it and its .bak to drop that checkpoint", onDamage) is { } checkpoint)
                {
                    _checkpoints.TryAdd((checkpoint.Namespace, checkpoint.Name), checkpoint);
                }
            }
        }

        // From the session's view, so that a namespace this session emptied is not listed.
        return _values.Where(p => p.Value is not null).Select(p => p.Key.Namespace)
            .Concat(_checkpoints.Where(p => p.Value is not null).Select(p => p.Key.Namespace))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private string DropWorkflow(string id) => $"delete the folder '{_disk.Full(WorkflowFolder(id))}' to drop workflow '{id}'";

    /// <summary>
    /// A workflow's state; null when its folder holds none of its records. A store's delete removes every file of the
    /// folder under one intent, so records without a state mean the state was removed outside the store: damage, not absence.
    /// </summary>
    private WorkflowRecord? ReadState(string folder, string drop)
    {
        var record = _disk.Read(folder + "/state.json", FilesJson.ParseWorkflow, drop);
        if (record is null && _disk.FolderExists(folder) && RecordFiles.FirstOrDefault(name => _disk.Exists(folder + "/" + name)) is { } found)
        {
            throw new StoreCorruptException(
                $"The workflow folder '{_disk.Full(folder)}' holds '{found}' but no 'state.json', so the state was removed after its last commit and the store will not guess it. Restore 'state.json' from a backup, or {drop}.");
        }

        return record;
    }

    private T? ReadOrSkip<T>(string relative, Func<byte[], T> parse, string drop, OnDamage onDamage) where T : class
    {
        try
        {
            return _disk.Read(relative, parse, drop);
        }
        catch (StoreCorruptException ex)
        {
            Skip(relative, ex, onDamage);
            return null;
        }
    }

    /// <summary>Leaves a damaged file out with a warning, or refuses the operation with its error.</summary>
    private void Skip(string relative, StoreCorruptException error, OnDamage onDamage)
    {
        if (onDamage == OnDamage.Refuse)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        if (_skipped.Add(relative))
        {
            Log.DamagedFileSkipped(_disk.Logger, _disk.Full(relative), _operation, error);
        }

        SkippedDamaged = true;
    }

    /// <summary>A file's record, read once per session (an absent file is remembered as null too).</summary>
    private T? Cached<TKey, T>(Dictionary<TKey, T?> cache, TKey key, string path, Func<byte[], T> parse, string drop)
        where TKey : notnull
        where T : class
    {
        if (!cache.TryGetValue(key, out var value))
        {
            value = _disk.Read(path, parse, drop);
            cache[key] = value;
        }

        return value;
    }

    private List<T> Lines<T>(Dictionary<string, List<T>> cache, FileKind kind, string id, Func<byte[], List<T>> parse)
    {
        if (!cache.TryGetValue(id, out var list))
        {
            list = _disk.Read(PathOf(kind, id), parse, DropWorkflow(id)) ?? [];
            cache[id] = list;
        }

        return list;
    }

    // ---- writes -----------------------------------------------------------------------------------------------

    public void PutWorkflow(WorkflowRecord record)
    {
        _workflows[record.Id] = record;
        _dirty.Add((FileKind.State, record.Id));
    }

    public void RemoveWorkflow(string id)
    {
        _workflows[id] = null;
        _steps[id] = [];
        _events[id] = [];
        _commands[id] = [];
        _workspaces[id] = null;
        _signals[id] = [];
        foreach (var kind in Enum.GetValues<FileKind>())
        {
            _dirty.Add((kind, id));
        }
    }

    public long AppendStep(StepRecord step) =>
        Append(Steps(step.WorkflowId), FileKind.Steps, step.WorkflowId, s => s.Sequence, sequence => StoreRecords.Truncate(step with { Sequence = sequence }));

    public long AppendEvent(AuditEvent auditEvent) =>
        Append(Events(auditEvent.WorkflowId), FileKind.Events, auditEvent.WorkflowId, e => e.Sequence,
            sequence => StoreRecords.Truncate(auditEvent with { Sequence = sequence }));

    public long AppendCommand(CommandExecution command) =>
        Append(Commands(command.WorkflowId), FileKind.Commands, command.WorkflowId, c => c.Sequence,
            sequence => StoreRecords.Truncate(command with { Sequence = sequence }));

    public long AppendSignal(SignalRecord signal) =>
        Append(Signals(signal.WorkflowId), FileKind.Signals, signal.WorkflowId, g => g.Sequence,
            sequence => StoreRecords.Truncate(signal with { Sequence = sequence }));

    /// <summary>Removes a pending signal; false if it is not pending.</summary>
    public bool RemoveSignal(string id, long sequence)
    {
        if (Signals(id).RemoveAll(g => g.Sequence == sequence) == 0)
        {
            return false;
        }

        _dirty.Add((FileKind.Signals, id));
        return true;
    }

    /// <summary>Replaces a workflow's pending signals wholesale (imports keep their sequences).</summary>
    public void PutSignals(string id, List<SignalRecord> signals)
    {
        _signals[id] = signals;
        _dirty.Add((FileKind.Signals, id));
    }

    /// <summary>Replaces a workflow's journal, events and commands wholesale (imports keep their sequences).</summary>
    public void PutHistory(string id, List<StepRecord> steps, List<AuditEvent> events, List<CommandExecution> commands)
    {
        _steps[id] = steps;
        _events[id] = events;
        _commands[id] = commands;
        _dirty.Add((FileKind.Steps, id));
        _dirty.Add((FileKind.Events, id));
        _dirty.Add((FileKind.Commands, id));
    }

    public void PutWorkspace(WorkspaceRecord workspace)
    {
        _workspaces[workspace.WorkflowId] = StoreRecords.Truncate(workspace);
        _dirty.Add((FileKind.Workspace, workspace.WorkflowId));
    }

    public void PutValue(KeyValueEntry entry)
    {
        _values[(entry.Namespace, entry.Key)] = entry;
        _dirtyValues.Add((entry.Namespace, entry.Key));
    }

    public void RemoveValue(string @namespace, string key)
    {
        _values[(@namespace, key)] = null;
        _dirtyValues.Add((@namespace, key));
    }

    public void PutCheckpoint(CheckpointRecord checkpoint)
    {
        _checkpoints[(checkpoint.Namespace, checkpoint.Name)] = checkpoint;
        _dirtyCheckpoints.Add((checkpoint.Namespace, checkpoint.Name));
    }

    public void RemoveCheckpoint(string @namespace, string name)
    {
        _checkpoints[(@namespace, name)] = null;
        _dirtyCheckpoints.Add((@namespace, name));
    }

    /// <summary>The file writes and deletes that make the disk hold this session's changes.</summary>
    public List<FileOperation> BuildPlan()
    {
        var plan = new List<FileOperation>();
        foreach (var (kind, id) in _dirty.OrderBy(d => d.Id, StringComparer.Ordinal).ThenBy(d => d.Kind))
        {
            var path = PathOf(kind, id);
            var data = kind switch
            {
                FileKind.State => _workflows[id] is { } record ? FilesJson.Document(record, RatchetJsonContext.Indented.WorkflowRecord) : null,
                FileKind.Steps => FilesJson.LinesOrNull(_steps[id], RatchetJsonContext.Default.StepRecord),
                FileKind.Events => FilesJson.LinesOrNull(_events[id], RatchetJsonContext.Default.AuditEvent),
                FileKind.Commands => FilesJson.LinesOrNull(_commands[id], RatchetJsonContext.Default.CommandExecution),
                FileKind.Signals => FilesJson.LinesOrNull(_signals[id], RatchetJsonContext.Default.SignalRecord),
                _ => _workspaces[id] is { } workspace ? FilesJson.Document(workspace, RatchetJsonContext.Indented.WorkspaceRecord) : null,
            };
            plan.Add(new FileOperation(path, data));
        }

        foreach (var (ns, key) in _dirtyValues)
        {
            var entry = _values[(ns, key)];
            plan.Add(new FileOperation(ValuePath(ns, key), entry is null ? null : FilesJson.Document(entry, RatchetJsonContext.Indented.KeyValueEntry)));
        }

        foreach (var (ns, name) in _dirtyCheckpoints)
        {
            var checkpoint = _checkpoints[(ns, name)];
            plan.Add(new FileOperation(CheckpointPath(ns, name), checkpoint is null ? null : FilesJson.Document(checkpoint, RatchetJsonContext.Indented.CheckpointRecord)));
        }

        return plan;
    }

    private static long NextSequence(long last) => last + 1;

    /// <summary>Appends to a workflow's journal, events or commands the record <paramref name="numbered"/> makes with the next sequence.</summary>
    private long Append<T>(List<T> list, FileKind kind, string id, Func<T, long> sequenceOf, Func<long, T> numbered)
    {
        var sequence = NextSequence(list.Count == 0 ? 0 : sequenceOf(list[^1]));
        list.Add(numbered(sequence));
        _dirty.Add((kind, id));
        return sequence;
    }
}

/// <summary>What a read of many files does with a damaged one.</summary>
internal enum OnDamage
{
    /// <summary>Refuse the whole operation with the file's <see cref="StoreCorruptException"/> (exports, whole-namespace reads).</summary>
    Refuse,

    /// <summary>Leave the record out with a warning (listings, due work, claims, maintenance), so one damaged record does not stop the rest.</summary>
    Skip,
}

/// <summary>How records are kept in files: JSON documents (indented, for people) and JSON lines, times in whole microseconds.</summary>
internal static class FilesJson
{
    public static byte[] Document<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);

    /// <summary>One record per line; null (delete the file) when there are none.</summary>
    public static byte[]? LinesOrNull<T>(List<T> records, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        if (records.Count == 0)
        {
            return null;
        }

        using var stream = new MemoryStream();
        foreach (var record in records)
        {
            JsonSerializer.Serialize(stream, record, typeInfo);
            stream.WriteByte((byte)'\n');
        }

        return stream.ToArray();
    }

    public static WorkflowRecord ParseWorkflow(byte[] bytes) =>
        StoreRecords.Truncate(JsonSerializer.Deserialize(bytes, RatchetJsonContext.Default.WorkflowRecord) ?? throw new JsonException("The file holds JSON null instead of a workflow."));

    public static WorkspaceRecord ParseWorkspace(byte[] bytes) =>
        JsonSerializer.Deserialize(bytes, RatchetJsonContext.Default.WorkspaceRecord) ?? throw new JsonException("The file holds JSON null instead of a workspace.");

    public static KeyValueEntry ParseValue(byte[] bytes) =>
        JsonSerializer.Deserialize(bytes, RatchetJsonContext.Default.KeyValueEntry) ?? throw new JsonException("The file holds JSON null instead of a key-value entry.");

    public static CheckpointRecord ParseCheckpoint(byte[] bytes)
    {
        var checkpoint = JsonSerializer.Deserialize(bytes, RatchetJsonContext.Default.CheckpointRecord) ?? throw new JsonException("The file holds JSON null instead of a checkpoint.");
        return checkpoint.Entries is null ? checkpoint with { Entries = WorkflowRecord.NoArtifacts } : checkpoint;
    }

    public static List<StepRecord> ParseSteps(byte[] bytes) => ParseLines(bytes, RatchetJsonContext.Default.StepRecord);

    public static List<AuditEvent> ParseEvents(byte[] bytes) => ParseLines(bytes, RatchetJsonContext.Default.AuditEvent);

    public static List<CommandExecution> ParseCommands(byte[] bytes) => ParseLines(bytes, RatchetJsonContext.Default.CommandExecution);

    public static List<SignalRecord> ParseSignals(byte[] bytes) => ParseLines(bytes, RatchetJsonContext.Default.SignalRecord);

    /// <summary>
    /// Every line must be a whole record: the files are replaced whole, atomically, so a torn line means damage and
    /// the caller falls back to the last good copy.
    /// </summary>
    private static List<T> ParseLines<T>(byte[] bytes, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var list = new List<T>();
        var span = bytes.AsSpan();
        var line = 0;
        while (span.Length > 0)
        {
            line++;
            var end = span.IndexOf((byte)'\n');
            if (end < 0)
            {
                throw new JsonException($"Line {line} has no line end: the file was cut short.");
            }

            var text = span[..end];
            span = span[(end + 1)..];
            if (text.IsEmpty)
            {
                continue;
            }

            list.Add(JsonSerializer.Deserialize(text, typeInfo) ?? throw new JsonException($"Line {line} is JSON null."));
        }

        return list;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

}
