namespace Ratchet.Expressions;

/// <summary>Where a template's hole stands in a POSIX <c>sh</c> command line, which decides how its value is written.</summary>
internal enum ShellHoleKind
{
    /// <summary>Unquoted command text (also inside <c>$(...)</c>): the value is written in single quotes, one word.</summary>
    Word,

    /// <summary>Inside double quotes: the value is written with <c>\ " $ `</c> escaped, so the shell expands nothing in it.</summary>
    DoubleQuoted,

    /// <summary>In the body of a here-document whose delimiter is quoted (<c>&lt;&lt;'EOF'</c>): the value is written as it is.</summary>
    QuotedHeredoc,

    /// <summary>Somewhere no writing of the value keeps the shell from reading it as code; the template is refused.</summary>
    Refused,
}

/// <summary>One hole's context; for a refused hole, why (a clause that follows the hole's text); for a here-document, its delimiter.</summary>
internal readonly record struct ShellHole(ShellHoleKind Kind, string? Problem = null, string? Delimiter = null, bool StripTabs = false);

/// <summary>
/// Follows a command template the way <c>sh</c> (dash and bash alike) splits it into quotes, substitutions, comments
/// and here-documents, to find the context of each hole. Only the text between holes is read: the values are not known
/// yet, and are written afterwards so that they cannot change what this scan found.
/// </summary>
/// <remarks>
/// The scan is conservative: a construct it does not follow exactly (a <c>case</c> inside <c>$(...)</c>, whose
/// <c>pattern)</c> looks like the end of the substitution; an ANSI-C string with <c>\'</c>, read differently by dash
/// and bash) makes every later hole refused rather than guessed at.
/// </remarks>
internal sealed class ShellContextScanner
{
    private const string SingleQuotes =
        "is inside single quotes, whose text the shell passes on unread, usually as a program for another tool (awk, jq, sed, sh -c), where a value spliced in can run as code; write the hole outside the quotes (its value is quoted for you)";

    private const string Backquotes = "is inside backquotes, which the shell reads twice; write $(...) instead";
    private const string Comment = "is inside a comment, which a newline in its value would end, running the rest; take it out of the comment";
    private const string Parameter = "is inside ${...}, where the shell expands its value";
    private const string Arithmetic = "is inside an arithmetic expression (( )), which the shell evaluates, running command substitutions in the value";
    private const string UnquotedHeredoc =
        "is in the body of a here-document whose delimiter is not quoted (<<EOF), where the shell runs $(...) and backquotes; quote the delimiter (<<'EOF') to insert the value as text";

    private const string HeredocDelimiter = "is part of a here-document's delimiter; write the delimiter as text";
    private const string AfterBackslash = "follows a backslash, which would escape the first character of its value and unquote the rest";
    private const string AfterDollar = "follows '$', which would make its value part of an expansion";
    private const string AfterName = "follows a $NAME inside double quotes, so a value starting with a letter, digit or '_' would lengthen that variable's name; write ${NAME}";
    private const string Unsure = "comes after a construct whose end Ratchet cannot tell for sure ('case' inside $(...), or \\' inside $'...')";

    private readonly string _text;
    private readonly int[] _holeAt;
    private readonly ShellHole[] _holes;
    private readonly List<Frame> _frames = [new Frame(FrameKind.Command, refusal: null)];
    private readonly Queue<(string Delimiter, bool Quoted, bool StripTabs)> _pendingHeredocs = new();
    private readonly Dictionary<int, string> _refuseAt = [];
    private int _nextHole;
    private bool _wordStart = true;
    private bool _unsure;

    private ShellContextScanner(IReadOnlyList<string> literals)
    {
        // One text with the holes between characters: hole i sits before _text[_holeAt[i]].
        var holeAt = new int[literals.Count - 1];
        var length = 0;
        for (var i = 0; i < holeAt.Length; i++)
        {
            length += literals[i].Length;
            holeAt[i] = length;
        }

        _text = string.Concat(literals);
        _holeAt = holeAt;
        _holes = new ShellHole[holeAt.Length];
    }

    private enum FrameKind
    {
        Command,
        Substitution,
        DoubleQuote,
        SingleQuote,
        AnsiQuote,
        Backquote,
        Parameter,
        Arithmetic,
        Comment,
    }

    /// <summary>The context of each hole; <paramref name="literals"/> are the texts around the holes (one more than the holes).</summary>
    public static ShellHole[] Scan(IReadOnlyList<string> literals)
    {
        var scanner = new ShellContextScanner(literals);
        scanner.Run();
        return scanner._holes;
    }

    private Frame Top => _frames[^1];

    private void Run()
    {
        var position = 0;
        while (position < _text.Length)
        {
            EmitHoles(position);
            position = Step(position);
        }

        EmitHoles(_text.Length);
    }

    /// <summary>Reads the character at <paramref name="position"/> in the current frame; returns where to read next.</summary>
    private int Step(int position)
    {
        var c = _text[position];
        switch (Top.Kind)
        {
            case FrameKind.Command or FrameKind.Substitution:
                return StepCommand(position, c);
            case FrameKind.DoubleQuote:
                switch (c)
                {
                    case '"':
                        Pop();
                        return position + 1;
                    case '\\':
                        return Escape(position);
                    case '$':
                        return Dollar(position, inDoubleQuotes: true);
                    case '`':
                        Push(FrameKind.Backquote, Backquotes);
                        return position + 1;
                    default:
                        return position + 1;
                }

            case FrameKind.SingleQuote:
                if (c == '\'')
                {
                    Pop();
                }

                return position + 1;
            case FrameKind.AnsiQuote:
                if (c == '\\')
                {
                    // dash reads $'...' as '$' and a plain single-quoted string, which \' ends; bash does not.
                    _unsure |= position + 1 < _text.Length && _text[position + 1] == '\'';
                    return position + 2;
                }

                if (c == '\'')
                {
                    Pop();
                }

                return position + 1;
            case FrameKind.Backquote:
                if (c == '\\')
                {
                    return position + 2;
                }

                if (c == '`')
                {
                    Pop();
                }

                return position + 1;
            case FrameKind.Parameter:
                switch (c)
                {
                    case '}':
                        Pop();
                        return position + 1;
                    case '\\':
                        return Escape(position);
                    case '$':
                        return Dollar(position, inDoubleQuotes: false);
                    case '"':
                        Push(FrameKind.DoubleQuote, null);
                        return position + 1;
                    case '\'' when !_frames.Any(f => f.Kind == FrameKind.DoubleQuote):
                        Push(FrameKind.SingleQuote, SingleQuotes);
                        return position + 1;
                    case '`':
                        Push(FrameKind.Backquote, Backquotes);
                        return position + 1;
                    default:
                        return position + 1;
                }

            case FrameKind.Arithmetic:
                switch (c)
                {
                    case '(':
                        Top.Depth++;
                        return position + 1;
                    case ')' when Top.Depth > 0:
                        Top.Depth--;
                        return position + 1;
                    case ')':
                        // `((a) )` is two subshells in dash, not arithmetic: its end is not where bash would see it.
                        _unsure |= position + 1 >= _text.Length || _text[position + 1] != ')';
                        Pop();
                        return position + 2;
                    case '$':
                        return Dollar(position, inDoubleQuotes: false);
                    case '\\':
                        return Escape(position);
                    default:
                        return position + 1;
                }

            case FrameKind.Comment:
                if (c == '\n')
                {
                    // The newline ends the command line too: the frame below reads it (here-documents start there).
                    Pop();
                    return position;
                }

                return position + 1;
            default:
                throw new InvalidOperationException($"Unknown frame {Top.Kind}.");
        }
    }

    private int StepCommand(int position, char c)
    {
        var wordStart = _wordStart;
        _wordStart = false;
        switch (c)
        {
            case '\\':
                return Escape(position);
            case '\'':
                Push(FrameKind.SingleQuote, SingleQuotes);
                return position + 1;
            case '"':
                Push(FrameKind.DoubleQuote, null);
                return position + 1;
            case '`':
                Push(FrameKind.Backquote, Backquotes);
                return position + 1;
            case '$' when Peek(position + 1) == '\'':
                Push(FrameKind.AnsiQuote, SingleQuotes);
                return position + 2;
            case '$':
                return Dollar(position, inDoubleQuotes: false);
            case '#' when wordStart:
                Push(FrameKind.Comment, Comment);
                return position + 1;
            case '<' when Peek(position + 1) == '<' && Peek(position + 2) == '<':
                // A here-string (bash): the next word is an ordinary word.
                _wordStart = true;
                return position + 3;
            case '<' when Peek(position + 1) == '<':
                return HeredocOperator(position);
            case '\n':
                _wordStart = true;
                return _pendingHeredocs.Count > 0 ? HeredocBodies(position + 1) : position + 1;
            case '(' when wordStart && Peek(position + 1) == '(':
                Push(FrameKind.Arithmetic, Arithmetic);
                return position + 2;
            case '(':
                Top.Depth++;
                _wordStart = true;
                return position + 1;
            case ')' when Top.Kind == FrameKind.Substitution && Top.Depth == 0:
                // The substitution ends; it was part of a word, which goes on.
                Pop();
                return position + 1;
            case ')' when Top.Kind == FrameKind.Substitution:
                Top.Depth--;
                _wordStart = true;
                return position + 1;
            case ' ' or '\t' or ';' or '&' or '|' or '<' or '>' or ')':
                _wordStart = true;
                return position + 1;
            default:
                if (wordStart && Top.Kind == FrameKind.Substitution && IsWord(position, "case"))
                {
                    // In `$(case x in a) ...)` the pattern's ')' would look like the end of the substitution.
                    _unsure = true;
                }

                return position + 1;
        }
    }

    /// <summary>A backslash: the next character is taken literally, and a hole right after it would lose its quoting.</summary>
    private int Escape(int position)
    {
        _refuseAt[position + 1] = AfterBackslash;
        return position + 2;
    }

    private int Dollar(int position, bool inDoubleQuotes)
    {
        _refuseAt[position + 1] = AfterDollar;
        switch (Peek(position + 1))
        {
            case '(' when Peek(position + 2) == '(':
                Push(FrameKind.Arithmetic, Arithmetic);
                return position + 3;
            case '(':
                Push(FrameKind.Substitution, null);
                _wordStart = true;
                return position + 2;
            case '{':
                Push(FrameKind.Parameter, Parameter);
                return position + 2;
            case var n when n is '_' || char.IsAsciiLetter(n):
                var end = position + 1;
                while (end < _text.Length && (_text[end] == '_' || char.IsAsciiLetterOrDigit(_text[end])) && !HoleAt(end))
                {
                    end++;
                }

                if (inDoubleQuotes)
                {
                    _refuseAt[end] = AfterName;
                }

                return end;
            default:
                return position + 1;
        }
    }

    /// <summary><c>&lt;&lt;</c> or <c>&lt;&lt;-</c> and the delimiter word after it; its body starts after the end of the line.</summary>
    private int HeredocOperator(int position)
    {
        var stripTabs = Peek(position + 2) == '-';
        var start = position + (stripTabs ? 3 : 2);
        var end = start;
        while (end < _text.Length && _text[end] is ' ' or '\t')
        {
            end++;
        }

        var delimiter = new System.Text.StringBuilder();
        var quoted = false;
        while (end < _text.Length && _text[end] is not (' ' or '\t' or '\n' or ';' or '&' or '|' or '<' or '>' or '(' or ')'))
        {
            switch (_text[end])
            {
                case '\'' or '"':
                    var quote = _text[end];
                    quoted = true;
                    end++;
                    while (end < _text.Length && _text[end] != quote)
                    {
                        if (quote == '"' && _text[end] == '\\' && end + 1 < _text.Length)
                        {
                            end++;
                        }

                        delimiter.Append(_text[end++]);
                    }

                    end++;
                    break;
                case '\\':
                    quoted = true;
                    if (end + 1 < _text.Length)
                    {
                        delimiter.Append(_text[end + 1]);
                    }

                    end += 2;
                    break;
                default:
                    delimiter.Append(_text[end++]);
                    break;
            }
        }

        end = Math.Min(end, _text.Length);
        for (var at = start; at <= end; at++)
        {
            _refuseAt.TryAdd(at, HeredocDelimiter);
        }

        if (delimiter.Length > 0)
        {
            _pendingHeredocs.Enqueue((delimiter.ToString(), quoted, stripTabs));
        }

        _wordStart = true;
        return end;
    }

    /// <summary>
    /// The bodies of the here-documents opened on the line that just ended, line by line up to each one's delimiter.
    /// A line with a hole in it cannot be the delimiter as written; whether its value makes it one is checked when
    /// the value is known.
    /// </summary>
    private int HeredocBodies(int position)
    {
        while (_pendingHeredocs.TryDequeue(out var heredoc))
        {
            var continued = false;
            while (position < _text.Length)
            {
                var lineEnd = _text.IndexOf('\n', position);
                lineEnd = lineEnd < 0 ? _text.Length : lineEnd;
                var hasHole = false;
                while (_nextHole < _holeAt.Length && _holeAt[_nextHole] <= lineEnd)
                {
                    hasHole = true;
                    _holes[_nextHole++] = heredoc.Quoted
                        ? new ShellHole(ShellHoleKind.QuotedHeredoc, Delimiter: heredoc.Delimiter, StripTabs: heredoc.StripTabs)
                        : new ShellHole(ShellHoleKind.Refused, UnquotedHeredoc);
                }

                var line = _text.AsSpan(position, lineEnd - position);
                var candidate = heredoc.StripTabs ? line.TrimStart('\t') : line;
                var isEnd = !hasHole && !continued && candidate.SequenceEqual(heredoc.Delimiter);

                // In an unquoted here-document a backslash before the newline joins the next line to this one.
                continued = !heredoc.Quoted && TrailingBackslashes(line) % 2 == 1;
                position = Math.Min(lineEnd + 1, _text.Length);
                if (isEnd)
                {
                    break;
                }
            }
        }

        _wordStart = true;
        return position;
    }

    private static int TrailingBackslashes(ReadOnlySpan<char> line)
    {
        var count = 0;
        while (count < line.Length && line[line.Length - 1 - count] == '\\')
        {
            count++;
        }

        return count;
    }

    private void EmitHoles(int position)
    {
        while (_nextHole < _holeAt.Length && _holeAt[_nextHole] <= position)
        {
            var at = _holeAt[_nextHole];
            string? problem = _refuseAt.TryGetValue(at, out var refusal) ? refusal : Top.Refusal ?? (_unsure ? Unsure : null);
            _holes[_nextHole++] = problem is not null
                ? new ShellHole(ShellHoleKind.Refused, problem)
                : new ShellHole(Top.Kind == FrameKind.DoubleQuote ? ShellHoleKind.DoubleQuoted : ShellHoleKind.Word);
            _wordStart = false;
        }
    }

    private bool HoleAt(int position) => Array.BinarySearch(_holeAt, position) >= 0;

    private char Peek(int position) => position < _text.Length && !HoleAt(position) ? _text[position] : '\0';

    private bool IsWord(int position, string word) =>
        string.CompareOrdinal(_text, position, word, 0, word.Length) == 0 &&
        (position + word.Length >= _text.Length || _text[position + word.Length] is ' ' or '\t' or '\n');

    private void Push(FrameKind kind, string? refusal) => _frames.Add(new Frame(kind, refusal ?? Top.Refusal));

    private void Pop()
    {
        if (_frames.Count > 1)
        {
            _frames.RemoveAt(_frames.Count - 1);
        }
    }

    private sealed class Frame(FrameKind kind, string? refusal)
    {
        public FrameKind Kind { get; } = kind;

        /// <summary>Why a hole here is refused; null where a value can be written safely.</summary>
        public string? Refusal { get; } = refusal;

        /// <summary>Open parentheses inside a substitution or arithmetic expression.</summary>
        public int Depth { get; set; }
    }
}
