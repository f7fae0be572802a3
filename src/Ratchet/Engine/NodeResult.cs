using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Engine;

/// <summary>What a node returns: its output (stored as the node's artifact) and the outcome that picks the next node.</summary>
public sealed record NodeResult
{
    /// <summary>The outcome of an ordinary success.</summary>
    public const string SuccessOutcome = "success";

    /// <summary>The label matched against the node's <c>On(outcome, target)</c> transitions; default <c>success</c>.</summary>
    public string Outcome { get; init; } = SuccessOutcome;

    /// <summary>The node's output, kept as its artifact; null for none.</summary>
    public JsonElement? Output { get; init; }

    /// <summary>A success without output.</summary>
    public static NodeResult Success() => new();

    /// <summary>A success whose output is <paramref name="output"/> serialized as JSON.</summary>
    public static NodeResult Success<T>(T output) => new() { Output = ToJson(output) };

    /// <summary>A result with a named outcome, to choose a transition, and an optional output.</summary>
    public static NodeResult WithOutcome(string outcome, object? output = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outcome);
        return new() { Outcome = outcome, Output = output is null ? null : ToJson(output) };
    }

    internal static JsonElement ToJson<T>(T value) => value switch
    {
        JsonElement element => element,
        JsonDocument document => document.RootElement.Clone(),
        _ => JsonSerializer.SerializeToElement(value, WorkflowJson.Options),
    };
}

/// <summary>The JSON settings the engine uses for inputs, outputs and artifacts of user types.</summary>
public static class WorkflowJson
{
    /// <summary>camelCase, enums as strings, reflection allowed for user types, with Ratchet's own types source-generated.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            // Deep enough to hold any value a store accepts; deeper values are refused with a clearer error where they enter.
            MaxDepth = RatchetJson.MaxDocumentDepth,
            TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(
                RatchetJsonContext.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()),
        };
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        options.MakeReadOnly();
        return options;
    }
}
