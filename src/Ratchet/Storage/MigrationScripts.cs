using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Ratchet.Storage;

/// <summary>One numbered schema migration of a SQL backend: its up and down scripts and the up script's checksum.</summary>
internal sealed record MigrationScript(int Version, string Name, string Up, string Down, string Checksum);

/// <summary>
/// The numbered migrations a SQL backend embeds as <c>NNNN_name.up.sql</c> / <c>NNNN_name.down.sql</c> resources, with
/// the rules every backend follows: both directions present, numbered 1, 2, 3… without gaps, checksummed so that a
/// store made by another build is recognised.
/// </summary>
internal static partial class MigrationScripts
{
    /// <summary>The migrations embedded in <paramref name="assembly"/> under <paramref name="resourcePrefix"/>, in order.</summary>
    /// <exception cref="InvalidOperationException">A direction is missing, the numbering has a gap, or there are none.</exception>
    public static MigrationScript[] Load(Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal))
            .Select(n => (Resource: n, Match: ScriptName().Match(n[resourcePrefix.Length..])))
            .Where(x => x.Match.Success)
            .GroupBy(x => int.Parse(x.Match.Groups["version"].Value, CultureInfo.InvariantCulture))
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var up = g.SingleOrDefault(x => x.Match.Groups["direction"].Value == "up");
                var down = g.SingleOrDefault(x => x.Match.Groups["direction"].Value == "down");
                if (up.Resource is null || down.Resource is null)
                {
                    throw new InvalidOperationException($"Migration {g.Key} needs both an up and a down script.");
                }

                var upText = Read(assembly, up.Resource);
                return new MigrationScript(g.Key, up.Match.Groups["name"].Value, upText, Read(assembly, down.Resource), Checksum(upText));
            })
            .ToArray();

        for (var i = 0; i < scripts.Length; i++)
        {
            if (scripts[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Migrations must be numbered 1, 2, 3… without gaps; found {scripts[i].Version} at position {i + 1}.");
            }
        }

        return scripts.Length > 0 ? scripts : throw new InvalidOperationException($"No migrations are embedded in {assembly.GetName().Name}.");
    }

    /// <summary>A checksum short enough for a message.</summary>
    public static string Short(string? checksum) => checksum is null ? "(none: unknown migration)" : checksum[..Math.Min(12, checksum.Length)];

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);

        // Line endings must not change a checksum: a checkout on Windows is the same migration.
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static string Checksum(string script) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)));

    [GeneratedRegex(@"^(?<version>\d{4})_(?<name>[a-z0-9_]+)\.(?<direction>up|down)\.sql$")]
    private static partial Regex ScriptName();
}
