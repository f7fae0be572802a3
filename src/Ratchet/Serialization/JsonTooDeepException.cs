namespace Ratchet.Serialization;

/// <summary>
/// A JSON value nests arrays and objects deeper than <see cref="RatchetJson.MaxDepth"/>: refused where it would enter
/// the store (an input, a signal's payload, a key's value, a node's output), so that the store never holds a value it
/// cannot export or migrate.
/// </summary>
public sealed class JsonTooDeepException(string subject)
    : RatchetException($"{subject} is nested deeper than {RatchetJson.MaxDepth} levels of arrays and objects; Ratchet keeps JSON values up to {RatchetJson.MaxDepth} deep, so that every store, export and migration can hold them. Flatten it, or keep it in a file and pass the file's path.")
{
    /// <summary>What was too deep, as the message names it (for example <c>The output of node 'plan'</c>).</summary>
    public string Subject { get; } = subject;

    /// <inheritdoc />
    public override string ErrorCode => "json-too-deep";
}
