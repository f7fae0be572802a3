using System.Globalization;
using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Yaml;

/// <summary>Inputs given on the command line did not fit the workflow's declared inputs.</summary>
public sealed class WorkflowInputException(string message) : RatchetException(message)
{
    /// <inheritdoc />
    public override string ErrorCode => "invalid-input";
}

/// <summary>Turns <c>key=value</c> pairs into a workflow's input object, by its declared inputs.</summary>
public static class WorkflowInputs
{
    /// <summary>
    /// Binds <paramref name="pairs"/> to <paramref name="file"/>'s inputs: converts each to its declared type, applies
    /// defaults, and refuses unknown keys and missing required inputs (all listed at once).
    /// </summary>
    /// <exception cref="WorkflowInputException">Something does not fit; the message lists every problem.</exception>
    public static JsonElement Bind(WorkflowFile file, IEnumerable<string> pairs)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(pairs);
        var declared = file.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problems.Add($"'{pair}' is not key=value (e.g. --input issue=42).");
                continue;
            }

            var key = pair[..equals];
            var text = pair[(equals + 1)..];
            if (!declared.TryGetValue(key, out var spec))
            {
                problems.Add(declared.Count == 0
                    ? $"'{file.Name}' takes no inputs, but '{key}' was given."
                    : $"'{file.Name}' has no input '{key}'; its inputs are {string.Join(", ", declared.Keys)}.");
                continue;
            }

            if (Convert(spec, text, out var value, out var problem))
            {
                values[key] = value;
            }
            else
            {
                problems.Add(problem!);
            }
        }

        foreach (var spec in file.Inputs)
        {
            if (values.ContainsKey(spec.Name))
            {
                continue;
            }

            if (spec.Default is { } fallback)
            {
                values[spec.Name] = fallback;
            }
            else if (spec.Required)
            {
                problems.Add($"the required input '{spec.Name}' ({spec.Type.ToString().ToLowerInvariant()}) is missing; pass --input {spec.Name}=...{(spec.Description is null ? "" : $" ({spec.Description})")}.");
            }
        }

        if (problems.Count > 0)
        {
            throw new WorkflowInputException($"Inputs for '{file.Name}' do not fit: {string.Join(" ", problems.Select(Capitalize))}");
        }

        return RatchetJson.ParseDocument(RatchetJson.MapToText(values));
    }

    private static bool Convert(InputSpec spec, string text, out JsonElement value, out string? problem)
    {
        problem = null;
        switch (spec.Type)
        {
            case InputType.Integer when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole):
                value = JsonSerializer.SerializeToElement(whole);
                return true;
            case InputType.Number when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real):
                value = JsonSerializer.SerializeToElement(real);
                return true;
            case InputType.Boolean when bool.TryParse(text, out var flag):
                value = JsonSerializer.SerializeToElement(flag);
                return true;
            case InputType.Json:
                try
                {
                    value = RatchetJson.Parse(text, $"Input '{spec.Name}'");
                    return true;
                }
                catch (JsonTooDeepException ex)
                {
                    value = default;
                    problem = ex.Message;
                    return false;
                }
                catch (JsonException ex)
                {
                    value = default;
                    problem = $"input '{spec.Name}' must be JSON: {ex.Message}";
                    return false;
                }

            case InputType.String:
                value = JsonSerializer.SerializeToElement(text);
                return true;
            default:
                value = default;
                problem = $"input '{spec.Name}' must be {(spec.Type switch { InputType.Integer => "a whole number", InputType.Number => "a number", _ => "true or false" })}, not '{text}'.";
                return false;
        }
    }

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
