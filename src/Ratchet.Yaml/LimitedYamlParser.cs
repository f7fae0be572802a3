using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ratchet.Yaml;

/// <summary>
/// YamlDotNet's parser with the limits a workflow file must keep, checked event by event as the loader asks for them,
/// so a hostile file is refused before it costs anything. YamlDotNet (16.x) has none of its own: its representation
/// model shares an anchored node between its aliases, which is cheap to load, but anything that walks the tree (values
/// turned into JSON, environment blocks, messages) expands every alias, and an "alias bomb" of 9 anchors of 9 aliases
/// each stands for 9^9 values. An alias inside the value it names makes a cycle that no walk ends, and deep nesting
/// overflows the loader's stack. The walk also checks <see cref="CancellationToken"/>, so a stop is honoured at once.
/// </summary>
internal sealed class LimitedYamlParser(IParser inner, CancellationToken cancellationToken) : IParser
{
    // Per document (anchors do not cross documents): how many values each anchor stands for, aliases expanded.
    private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private readonly Stack<(string? Anchor, long Size)> _open = new();
    private int _aliases;
    private long _expanded;

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!inner.MoveNext())
        {
            return false;
        }

        switch (inner.Current)
        {
            case DocumentStart:
                _sizes.Clear();
                break;
            case AnchorAlias alias:
                Alias(alias);
                break;
            case Scalar scalar:
                Add(Anchor(scalar), 1);
                break;
            case SequenceStart or MappingStart:
                if (_open.Count >= WorkflowFileParser.MaxDepth)
                {
                    throw new YamlLimitException(inner.Current.Start, inner.Current.End,
                        $"values are nested more than {WorkflowFileParser.MaxDepth} deep here; a workflow file needs far fewer levels.");
                }

                _open.Push((Anchor((NodeEvent)inner.Current), 1));
                break;
            case SequenceEnd or MappingEnd when _open.Count > 0:
                var (anchor, size) = _open.Pop();
                Add(anchor, size);
                break;
        }

        return true;
    }

    private void Alias(AnchorAlias alias)
    {
        var name = alias.Value.Value;
        if (++_aliases > WorkflowFileParser.MaxAliases)
        {
            throw new YamlLimitException(alias.Start, alias.End,
                $"the alias '*{name}' is one too many: a workflow file may use at most {WorkflowFileParser.MaxAliases} aliases.");
        }

        if (_open.Any(o => o.Anchor == name))
        {
            throw new YamlLimitException(alias.Start, alias.End,
                $"the alias '*{name}' is inside the value its anchor '&{name}' names, so that value would contain itself without end; refer to another anchor.");
        }

        // An alias of an anchor not defined yet is YamlDotNet's to refuse; it stands for nothing here.
        var size = _sizes.GetValueOrDefault(name, 1);
        _expanded += size;
        if (_expanded > WorkflowFileParser.MaxAliasExpansion)
        {
            throw new YamlLimitException(alias.Start, alias.End,
                string.Create(CultureInfo.InvariantCulture, $"the alias '*{name}' stands for {size:N0} values, which brings the values that aliases repeat to more than {WorkflowFileParser.MaxAliasExpansion:N0}, the most a workflow file may have (anchors that alias anchors multiply: is this an alias bomb?); write the values out, or use fewer aliases."));
        }

        Add(anchor: null, size);
    }

    private void Add(string? anchor, long size)
    {
        if (anchor is not null)
        {
            _sizes[anchor] = size;
        }

        if (_open.Count > 0)
        {
            var (parentAnchor, parentSize) = _open.Pop();
            _open.Push((parentAnchor, parentSize + size));
        }
    }

    private static string? Anchor(NodeEvent node) => node.Anchor.IsEmpty ? null : node.Anchor.Value;
}

/// <summary>A workflow file passes one of the limits <see cref="LimitedYamlParser"/> keeps.</summary>
internal sealed class YamlLimitException(Mark start, Mark end, string message) : YamlException(start, end, message);
