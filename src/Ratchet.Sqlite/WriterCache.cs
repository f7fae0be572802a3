namespace Ratchet.Sqlite;

/// <summary>
/// What the writer knows it wrote: each workflow's version and column values, and the last sequence number of its
/// steps, events and commands. With it, a step's commit needs no read of the workflow row (its version check and
/// changed-column diff use the cache) and no <c>MAX(seq)</c> lookups.
/// </summary>
/// <remarks>
/// Valid only while no other connection writes the file: the writer checks SQLite's <c>data_version</c> at the start of
/// every transaction and clears the cache when another process has committed. Entries written by an operation are
/// staged and kept only if the operation (and later its transaction) succeeds.
/// </remarks>
internal sealed class WriterCache
{
    /// <summary>Past this many workflows the cache starts over, so memory stays bounded.</summary>
    private const int MaxWorkflows = 200_000;

    private readonly Dictionary<string, WorkflowState> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<(SequenceKind, string), long> _sequences = [];
    private readonly Dictionary<string, WorkflowState> _stagedWorkflows = new(StringComparer.Ordinal);
    private readonly Dictionary<(SequenceKind, string), long> _stagedSequences = [];

    public bool TryGetWorkflow(string id, out WorkflowState state) =>
        _stagedWorkflows.TryGetValue(id, out state!) || _workflows.TryGetValue(id, out state!);

    public void StageWorkflow(string id, long key, long version, object?[] values) => _stagedWorkflows[id] = new WorkflowState(key, version, values);

    public bool TryGetSequence(SequenceKind kind, string id, out long last) =>
        _stagedSequences.TryGetValue((kind, id), out last) || _sequences.TryGetValue((kind, id), out last);

    public void StageSequence(SequenceKind kind, string id, long last) => _stagedSequences[(kind, id)] = last;

    /// <summary>A new workflow has no steps, events or commands yet.</summary>
    public void StageNewWorkflow(string id, long key, object?[] values)
    {
        StageWorkflow(id, key, 1, values);
        StageSequence(SequenceKind.Step, id, 0);
        StageSequence(SequenceKind.Event, id, 0);
        StageSequence(SequenceKind.Command, id, 0);
    }

    /// <summary>The operation succeeded: what it staged is now part of the transaction.</summary>
    public void KeepStaged()
    {
        if (_workflows.Count + _stagedWorkflows.Count > MaxWorkflows)
        {
            Clear();
        }

        foreach (var (id, state) in _stagedWorkflows)
        {
            _workflows[id] = state;
        }

        foreach (var (key, last) in _stagedSequences)
        {
            _sequences[key] = last;
        }

        DropStaged();
    }

    public void DropStaged()
    {
        _stagedWorkflows.Clear();
        _stagedSequences.Clear();
    }

    /// <summary>Forget a workflow whose row was changed outside change sets (claimed, archived, deleted).</summary>
    public void Forget(string id)
    {
        _workflows.Remove(id);
        _stagedWorkflows.Remove(id);
        foreach (var kind in Enum.GetValues<SequenceKind>())
        {
            _sequences.Remove((kind, id));
            _stagedSequences.Remove((kind, id));
        }
    }

    public void Clear()
    {
        _workflows.Clear();
        _sequences.Clear();
        DropStaged();
    }

    /// <param name="Key">The row's internal integer key, which journals reference.</param>
    /// <param name="Version">The version the writer last committed.</param>
    /// <param name="Values">The mutable columns as last written.</param>
    internal sealed record WorkflowState(long Key, long Version, object?[] Values);
}

internal enum SequenceKind
{
    Step,
    Event,
    Command,
}
