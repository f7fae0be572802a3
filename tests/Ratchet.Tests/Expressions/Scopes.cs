using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Tests.Expressions;

/// <summary>Scopes for expression tests: a realistic one with every kind of value, and ad-hoc ones.</summary>
internal static class Scopes
{
    public static readonly JsonElement Standard = RatchetJson.Parse(
        """
        {
          "output": {
            "status": "done", "count": 3, "ratio": 0.5, "empty": "", "zero": 0, "nothing": null,
            "flag": true, "off": false, "items": ["a", "b", "c"], "nums": [1, 2, 3],
            "obj": { "k": "v" }, "spaced": { "a" : [ 1 , 2 ] , "b" : "it's \"x\"" },
            "emptyList": [], "emptyObj": {},
            "files": [{ "path": "src/a.cs" }, { "path": "src/b.cs" }],
            "dash-key": "dashed", "0": "zero-key", "title": "Crash on start", "issue": 42,
            "big": 12345678901234567890, "unicode": "h\u00e9llo", "mixed": "MiXeD",
            "x": { "a": 1, "b": 2 }, "y": { "b": 2, "a": 1 }
          },
          "inputs": { "issue": "123", "branch": "fix/crash" },
          "artifacts": { "plan": { "branch": "fix/crash", "files": [{ "path": "src/a.cs" }] } },
          "workflow": { "id": "AB12CD34" }
        }
        """);

    public static JsonElement Parse(string json) => RatchetJson.Parse(json);

    /// <summary>A scope whose one root <c>v</c> holds the given JSON value.</summary>
    public static JsonElement WithValue(string json) => RatchetJson.Parse($"{{\"v\":{json}}}");

    /// <summary>A scope with <c>inputs</c> holding the given strings.</summary>
    public static JsonElement WithInputs(IReadOnlyDictionary<string, string> inputs)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("inputs");
            foreach (var (key, value) in inputs)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return RatchetJson.Parse(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
