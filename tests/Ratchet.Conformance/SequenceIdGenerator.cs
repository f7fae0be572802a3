namespace Ratchet.Conformance;

/// <summary>An id generator that returns a fixed sequence of ids, repeating the last one, to force collisions.</summary>
public sealed class SequenceIdGenerator : IWorkflowIdGenerator
{
    private readonly string[] _ids;
    private int _calls;

    /// <summary>Creates the generator.</summary>
    public SequenceIdGenerator(params string[] ids)
    {
        ArgumentOutOfRangeException.ThrowIfZero(ids.Length);
        _ids = ids;
    }

    /// <summary>How many ids were asked for.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <inheritdoc />
    public string NewId()
    {
        var call = Interlocked.Increment(ref _calls);
        return _ids[Math.Min(call, _ids.Length) - 1];
    }
}
