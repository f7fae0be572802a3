using System.Text.Json;

namespace Ratchet;

/// <summary>A JSON value saved under a key in a namespace.</summary>
/// <remarks><see cref="Version"/> starts at 1 and grows by one with every save, restore included.</remarks>
public sealed record KeyValueEntry
{
    /// <summary>The namespace, for example a workflow id or <c>default</c>.</summary>
    public required string Namespace { get; init; }

    /// <summary>The key within the namespace.</summary>
    public required string Key { get; init; }

    /// <summary>The value.</summary>
    public required JsonElement Value { get; init; }

    /// <summary>The entry's version, for optimistic writes.</summary>
    public long Version { get; init; }

    /// <summary>When it was last saved.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A named copy of a whole namespace's values at one moment.</summary>
public sealed record CheckpointInfo
{
    /// <summary>The namespace copied.</summary>
    public required string Namespace { get; init; }

    /// <summary>The checkpoint's name, unique within the namespace.</summary>
    public required string Name { get; init; }

    /// <summary>When it was taken.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>How many keys it holds.</summary>
    public int EntryCount { get; init; }
}

/// <summary>A checkpoint with its values, as exported and imported.</summary>
public sealed record CheckpointRecord
{
    /// <summary>The namespace copied.</summary>
    public required string Namespace { get; init; }

    /// <summary>The checkpoint's name.</summary>
    public required string Name { get; init; }

    /// <summary>When it was taken.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The values it holds, by key.</summary>
    public required IReadOnlyDictionary<string, JsonElement> Entries { get; init; }
}
