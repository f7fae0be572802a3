using System.Globalization;
using System.Text.RegularExpressions;

namespace Ratchet.Yaml;

/// <summary>Durations as workflow files write them: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h30m</c>, <c>2d</c>.</summary>
internal static partial class Durations
{
    /// <summary>Parses a duration; false with a reason when the text is not one.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, out string? problem)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "a duration cannot be empty; write e.g. 30s, 5m or 1h";
            return false;
        }

        var matches = Part().Matches(text.Trim());
        var consumed = matches.Sum(m => m.Length);
        if (matches.Count == 0 || consumed != text.Trim().Length)
        {
            problem = $"'{text}' is not a duration; write a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m";
            return false;
        }

        foreach (Match match in matches)
        {
            var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            duration += match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
        }

        problem = null;
        return true;
    }

    /// <summary>A duration as these files write it, e.g. <c>1h30m</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return $"{(long)duration.TotalMilliseconds}ms";
        }

        var text = "";
        if (duration.Days > 0)
        {
            text += $"{duration.Days}d";
        }

        if (duration.Hours > 0)
        {
            text += $"{duration.Hours}h";
        }

        if (duration.Minutes > 0)
        {
            text += $"{duration.Minutes}m";
        }

        if (duration.Seconds > 0 || duration.Milliseconds > 0)
        {
            text += duration.Milliseconds > 0 ? $"{duration.Seconds + (duration.Milliseconds / 1000.0):0.###}s" : $"{duration.Seconds}s";
        }

        return text;
    }

    [GeneratedRegex(@"(?<value>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h|d)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();
}
