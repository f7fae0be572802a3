using System.Globalization;
using System.Text.Json;

namespace Ratchet.GitHub;

/// <summary>The issue or pull request a workflow serves: <c>owner/name</c> and its number.</summary>
public sealed record GitHubTarget(string Owner, string Repository, int Number)
{
    /// <summary>
    /// Reads the target from a workflow's input (else its metadata): <c>repo</c> as <c>owner/name</c> and <c>issue</c>
    /// or <c>pr</c> as a number (or a string of digits). Null when the workflow is not bound to one.
    /// </summary>
    public static GitHubTarget? From(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return FromJson(workflow.Input) ?? FromJson(workflow.Metadata);
    }

    private static GitHubTarget? FromJson(JsonElement? value)
    {
        if (value is not { ValueKind: JsonValueKind.Object } json ||
            !json.TryGetProperty("repo", out var repo) || repo.ValueKind != JsonValueKind.String ||
            repo.GetString()!.Split('/') is not [{ Length: > 0 } owner, { Length: > 0 } name])
        {
            return null;
        }

        foreach (var key in (ReadOnlySpan<string>)["issue", "pr"])
        {
            if (json.TryGetProperty(key, out var number) && ParseNumber(number) is { } n)
            {
                return new GitHubTarget(owner, name, n);
            }
        }

        return null;
    }

    private static int? ParseNumber(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt32(out var n) && n > 0 => n,
        JsonValueKind.String when int.TryParse(value.GetString()!.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 => n,
        _ => null,
    };

    /// <inheritdoc/>
    public override string ToString() => $"{Owner}/{Repository}#{Number}";
}
