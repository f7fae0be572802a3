using System.Text.Json;
using Ratchet.Serialization;
using Xunit.Sdk;

namespace Ratchet.Conformance;

/// <summary>Assertions that compare records by their JSON form, so that JSON values and times compare by content.</summary>
public static class RecordAssert
{
    private static readonly JsonSerializerOptions Indented = new(RatchetJson.Options) { WriteIndented = true };

    /// <summary>
    /// Asserts that two records serialize to the same JSON (property order ignored): every field, JSON values by
    /// content, times to the tick and with the same offset.
    /// </summary>
    public static void Same<T>(T expected, T actual)
    {
        var left = RatchetJson.ToElement(expected);
        var right = RatchetJson.ToElement(actual);
        if (!JsonElement.DeepEquals(left, right))
        {
            throw new XunitException(
                $"{typeof(T).Name} differs from what was expected.{Environment.NewLine}Expected: {Text(left)}{Environment.NewLine}Actual:   {Text(right)}");
        }
    }

    /// <summary>Asserts that two sequences of records are the <see cref="Same{T}"/>, pairwise and in order.</summary>
    public static void SameSequence<T>(IEnumerable<T> expected, IEnumerable<T> actual)
    {
        var left = ToArray(expected.Select(item => RatchetJson.ToElement(item)));
        var right = ToArray(actual.Select(item => RatchetJson.ToElement(item)));
        if (!JsonElement.DeepEquals(left, right))
        {
            throw new XunitException(
                $"The {typeof(T).Name} list differs from what was expected.{Environment.NewLine}Expected: {Text(left)}{Environment.NewLine}Actual:   {Text(right)}");
        }
    }

    /// <summary>Asserts that two JSON values are equal by content (property order ignored; null only equals null).</summary>
    public static void JsonEqual(JsonElement? expected, JsonElement? actual)
    {
        if (!RatchetJson.DeepEquals(expected, actual))
        {
            throw new XunitException(
                $"JSON differs.{Environment.NewLine}Expected: {RatchetJson.ToText(expected) ?? "(none)"}{Environment.NewLine}Actual:   {RatchetJson.ToText(actual) ?? "(none)"}");
        }
    }

    /// <summary>Asserts that <paramref name="actual"/> is exactly <paramref name="expected"/>: same instant, UTC offset.</summary>
    public static void Utc(DateTimeOffset expected, DateTimeOffset? actual)
    {
        if (actual is not { } value || value != expected || value.Offset != TimeSpan.Zero || value.Ticks != expected.UtcTicks)
        {
            throw new XunitException($"Expected the time {expected:O} (UTC), found {(actual is { } a ? a.ToString("O") : "none")}.");
        }
    }

    private static JsonElement ToArray(IEnumerable<JsonElement> items)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var item in items)
            {
                item.WriteTo(writer);
            }

            writer.WriteEndArray();
        }

        return RatchetJson.Parse(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string Text(JsonElement element) => JsonSerializer.Serialize(element, Indented);
}
