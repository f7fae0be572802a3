using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ratchet.Queues;

/// <summary>
/// A named queue's limits, stored by <see cref="QueueCatalog"/> in the key-value namespace
/// <see cref="QueueCatalog.Namespace"/> and read by every store inside its claim, so that all workers on the store
/// share one count. A workflow joins a queue when it starts (<see cref="Engine.WorkflowQueue"/>); a queue nobody
/// defined has no limits but its partitions (one at a time per key).
/// </summary>
public sealed record QueueDefinition
{
    /// <summary>The queue's name (letters, digits, '-', '_', '.').</summary>
    public required string Name { get; init; }

    /// <summary>At most this many workflows of the queue hold a live lease at once, across all workers; null for no limit.</summary>
    public int? Concurrency { get; init; }

    /// <summary>At most this many workflows of the queue hold a live lease of one worker at once; null for no limit.</summary>
    public int? PerWorker { get; init; }

    /// <summary>At most this many starts (claims) of the queue's workflows within any <see cref="RatePeriod"/>; null for no limit.</summary>
    public int? RateLimit { get; init; }

    /// <summary>The window <see cref="RateLimit"/> counts starts in; set together with it.</summary>
    [JsonIgnore]
    public TimeSpan? RatePeriod { get; init; }

    /// <summary>At most this many workflows of one partition key run at once (default 1: one at a time per key).</summary>
    public int PartitionConcurrency { get; init; } = 1;

    /// <summary>When the queue was last set.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The rate window in whole microseconds, as stores (and the Redis claim script) read it.</summary>
    [JsonInclude]
    [JsonPropertyName("ratePeriodUs")]
    internal long? RatePeriodMicroseconds
    {
        get => RatePeriod is { } period ? period.Ticks / TimeSpan.TicksPerMicrosecond : null;
        init => RatePeriod = value is { } us ? TimeSpan.FromTicks(us * TimeSpan.TicksPerMicrosecond) : null;
    }

    /// <summary>The rate as written on the command line and in YAML (<c>5/1s</c>), or null.</summary>
    [JsonIgnore]
    public string? RateText => RateLimit is { } limit && RatePeriod is { } period ? $"{limit}/{FormatPeriod(period)}" : null;

    /// <summary>Parses a rate such as <c>5/1s</c>, <c>100/1m</c>, <c>10/500ms</c> (count / period with a unit of ms, s, m or h).</summary>
    /// <exception cref="QueueDefinitionException">It is not of that form.</exception>
    public static (int Limit, TimeSpan Period) ParseRate(string queue, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 ||
            ParsePeriod(text[(slash + 1)..]) is not { } period)
        {
            throw new QueueDefinitionException(queue, $"the rate '{text}' is not of the form COUNT/PERIOD, for example 5/1s, 100/1m or 10/500ms (a count of at least 1, a period in ms, s, m or h).");
        }

        return (limit, period);
    }

    /// <summary>Checks the definition; every problem in one message.</summary>
    /// <exception cref="QueueDefinitionException">It is not valid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (!WorkflowIds.IsValid(Name ?? "", out _))
        {
            problems.Add("the name must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit");
        }

        if (Concurrency is < 1)
        {
            problems.Add($"the concurrency must be at least 1 (it is {Concurrency})");
        }

        if (PerWorker is < 1)
        {
            problems.Add($"the per-worker limit must be at least 1 (it is {PerWorker})");
        }

        if (RateLimit is < 1)
        {
            problems.Add($"the rate limit must be at least 1 (it is {RateLimit})");
        }

        if ((RateLimit is null) != (RatePeriod is null) || RatePeriod is { } period && period < TimeSpan.FromMilliseconds(1))
        {
            problems.Add("a rate needs both a count and a period of at least 1 ms");
        }

        if (PartitionConcurrency < 1)
        {
            problems.Add($"the partition concurrency must be at least 1 (it is {PartitionConcurrency})");
        }

        if (problems.Count > 0)
        {
            throw new QueueDefinitionException(Name ?? "", string.Join("; ", problems) + ".");
        }
    }

    private static TimeSpan? ParsePeriod(string text)
    {
        var (digits, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1.0)
            : text.EndsWith('s') ? (text[..^1], 1000.0)
            : text.EndsWith('m') ? (text[..^1], 60_000.0)
            : text.EndsWith('h') ? (text[..^1], 3_600_000.0)
            : (text, double.NaN);
        if (digits.Length == 0)
        {
            digits = "1";
        }

        return !double.IsNaN(unit) && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? TimeSpan.FromMilliseconds(count * unit)
            : null;
    }

    private static string FormatPeriod(TimeSpan period) =>
        period.TotalMilliseconds % 3_600_000 == 0 ? $"{period.TotalHours:0}h"
        : period.TotalMilliseconds % 60_000 == 0 ? $"{period.TotalMinutes:0}m"
        : period.TotalMilliseconds % 1000 == 0 ? $"{period.TotalSeconds:0}s"
        : $"{period.TotalMilliseconds:0}ms";
}

/// <summary>A queue definition that is not valid.</summary>
public sealed class QueueDefinitionException : RatchetException
{
    /// <summary>Creates the exception for queue <paramref name="queue"/>.</summary>
    public QueueDefinitionException(string queue, string problem)
        : base($"Queue '{queue}' is not valid: {problem}")
    {
        Queue = queue;
    }

    /// <summary>The queue's name.</summary>
    public string Queue { get; }

    /// <inheritdoc />
    public override string ErrorCode => "invalid-queue";
}

/// <summary>There is no queue of that name in the store.</summary>
public sealed class QueueNotFoundException : RatchetException
{
    /// <summary>Creates the exception for queue <paramref name="queue"/>.</summary>
    public QueueNotFoundException(string queue)
        : base($"There is no queue '{queue}' in the store; set it with its limits first.")
    {
        Queue = queue;
    }

    /// <summary>The queue's name.</summary>
    public string Queue { get; }

    /// <inheritdoc />
    public override string ErrorCode => "queue-not-found";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(QueueDefinition))]
internal sealed partial class QueueJsonContext : JsonSerializerContext
{
    public static QueueDefinition? Read(string queue, JsonElement value)
    {
        try
        {
            return value.Deserialize(Default.QueueDefinition);
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptException($"The queue '{queue}' is stored as something Ratchet did not write ({ex.Message}); set it again.");
        }
    }
}
