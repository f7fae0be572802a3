using System.Globalization;
using System.Text;

namespace Ratchet.Expressions;

/// <summary>
/// A recursive-descent parser with its lexer, reading one token ahead. Recursion happens only for parentheses,
/// function arguments, <c>not</c> and unary minus, and each of those counts against
/// <see cref="Expression.MaxNestingDepth"/>; chains of <c>and</c>, <c>or</c>, <c>+</c> and path steps become one
/// node each, so neither parsing nor evaluation can overflow the stack.
/// </summary>
internal sealed class Parser
{
    private const int MaxQuotedTokenLength = 30;

    private readonly string _source;
    private readonly bool _inTemplate;
    private readonly List<string> _roots = [];
    private int _position;
    private Token _token;
    private Token _previous;
    private int _depth;

    private Parser(string source, int start, bool inTemplate)
    {
        _source = source;
        _inTemplate = inTemplate;
        _position = start;
        Advance();
    }

    public static Expression ParseExpression(string text)
    {
        var parser = new Parser(text, 0, inTemplate: false);
        if (parser._token.Kind == TokenKind.End)
        {
            throw parser.Error(parser._token.Start, "the expression is empty; write a value, a path such as output.status, or a condition such as output.status == 'done'");
        }

        var root = parser.ParseOr();
        if (parser._token.Kind != TokenKind.End)
        {
            throw parser.ExpectedOperator("the end of the expression");
        }

        return new Expression(text, text, isTemplate: false, root, [.. parser._roots]);
    }

    /// <summary>Parses the expression of a template hole whose <c>{{</c> is at <paramref name="open"/>; <paramref name="end"/> is just past its <c>}}</c>.</summary>
    public static Expression ParseHole(string template, int open, out int end)
    {
        var parser = new Parser(template, open + 2, inTemplate: true);
        var openAt = open.ToString(CultureInfo.InvariantCulture);
        switch (parser._token.Kind)
        {
            case TokenKind.CloseHole:
                throw parser.Error(open, "the '{{ }}' is empty; put an expression inside it, or write '{{{{' for literal '{{'");
            case TokenKind.End:
                throw parser.Error(parser._token.Start, $"expected an expression and '}}}}' to close the '{{{{' at position {openAt}");
        }

        var root = parser.ParseOr();
        if (parser._token.Kind != TokenKind.CloseHole)
        {
            if (parser._token.Kind == TokenKind.End)
            {
                throw parser.Error(parser._token.Start, $"expected '}}}}' to close the '{{{{' at position {openAt}");
            }

            throw parser.ExpectedOperator($"'}}}}' to close the '{{{{' at position {openAt}");
        }

        end = parser._token.End;
        var text = template[(open + 2)..parser._token.Start].Trim();
        return new Expression(text, template, isTemplate: true, root, [.. parser._roots]);
    }

    private Node ParseOr()
    {
        var first = ParseAnd();
        if (_token.Kind != TokenKind.Or)
        {
            return first;
        }

        var position = _token.Start;
        var operands = new List<Node> { first };
        while (_token.Kind == TokenKind.Or)
        {
            Advance();
            operands.Add(ParseAnd());
        }

        return new OrNode(position, [.. operands]);
    }

    private Node ParseAnd()
    {
        var first = ParseNot();
        if (_token.Kind != TokenKind.And)
        {
            return first;
        }

        var position = _token.Start;
        var operands = new List<Node> { first };
        while (_token.Kind == TokenKind.And)
        {
            Advance();
            operands.Add(ParseNot());
        }

        return new AndNode(position, [.. operands]);
    }

    // `not` binds more loosely than comparisons, so `not a == b` is `not (a == b)`; `!` is the same operator.
    private Node ParseNot()
    {
        if (_token.Kind != TokenKind.Not)
        {
            return ParseComparison();
        }

        var position = _token.Start;
        Enter(position);
        Advance();
        var operand = ParseNot();
        _depth--;
        return new NotNode(position, operand);
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        if (!_token.IsComparison)
        {
            return left;
        }

        var comparison = _token;
        Advance();
        var right = ParseAdditive();
        if (_token.IsComparison)
        {
            throw Error(_token.Start, $"comparisons cannot be chained; combine them with 'and', as in a < b and b < c");
        }

        var kind = comparison.Kind switch
        {
            TokenKind.Equal => ComparisonOperator.Equal,
            TokenKind.NotEqual => ComparisonOperator.NotEqual,
            TokenKind.Less => ComparisonOperator.Less,
            TokenKind.LessOrEqual => ComparisonOperator.LessOrEqual,
            TokenKind.Greater => ComparisonOperator.Greater,
            _ => ComparisonOperator.GreaterOrEqual,
        };
        return new ComparisonNode(comparison.Start, kind, left, right);
    }

    private Node ParseAdditive()
    {
        var first = ParseUnary();
        if (_token.Kind is not (TokenKind.Plus or TokenKind.Minus))
        {
            return first;
        }

        var operands = new List<Node> { first };
        var positions = new List<int>();
        while (true)
        {
            if (_token.Kind == TokenKind.Minus)
            {
                throw Error(_token.Start, "'-' between two values is not supported (there is no subtraction); to read a key that contains '-', write it in brackets, as in artifacts[\"run-tests\"]");
            }

            if (_token.Kind != TokenKind.Plus)
            {
                break;
            }

            positions.Add(_token.Start);
            Advance();
            operands.Add(ParseUnary());
        }

        return new AddNode(positions[0], [.. operands], [.. positions]);
    }

    private Node ParseUnary()
    {
        if (_token.Kind != TokenKind.Minus)
        {
            return ParsePrimary();
        }

        var position = _token.Start;
        Enter(position);
        Advance();
        Node node;
        if (_token.Kind == TokenKind.Number)
        {
            // A negative literal stays an exact JSON number, so -9007199254740993 keeps every digit.
            node = new ConstantNode(position, NumberLiteral(_token, negative: true));
            Advance();
        }
        else
        {
            node = new NegateNode(position, ParseUnary());
        }

        _depth--;
        return node;
    }

    private Node ParsePrimary()
    {
        var token = _token;
        switch (token.Kind)
        {
            case TokenKind.Number:
                Advance();
                return new ConstantNode(token.Start, NumberLiteral(token, negative: false));
            case TokenKind.String:
                Advance();
                return new ConstantNode(token.Start, Value.FromLiteralString(token.Text!));
            case TokenKind.True:
                Advance();
                return new ConstantNode(token.Start, Value.True);
            case TokenKind.False:
                Advance();
                return new ConstantNode(token.Start, Value.False);
            case TokenKind.Null:
                Advance();
                return new ConstantNode(token.Start, Value.Null);
            case TokenKind.Identifier:
                Advance();
                return _token.Kind == TokenKind.LeftParen ? ParseCall(token) : ParsePath(token);
            case TokenKind.LeftParen:
                Enter(token.Start);
                Advance();
                var inner = ParseOr();
                if (_token.Kind != TokenKind.RightParen)
                {
                    throw Error(_token.Start, $"expected ')' to close the '(' at position {token.Start.ToString(CultureInfo.InvariantCulture)}, found {Describe(_token)}");
                }

                Advance();
                _depth--;
                return inner;
            default:
                throw ExpectedValue();
        }
    }

    private Node ParseCall(Token nameToken)
    {
        var name = Slice(nameToken);
        if (!Functions.TryGet(name, out var function, out var arity))
        {
            throw Error(nameToken.Start, $"unknown function '{name}'; the functions are {Functions.Names}");
        }

        var open = _token.Start;
        Enter(open);
        Advance();
        var arguments = new List<Node>();
        if (_token.Kind != TokenKind.RightParen)
        {
            while (true)
            {
                arguments.Add(ParseOr());
                if (_token.Kind == TokenKind.Comma)
                {
                    Advance();
                    continue;
                }

                if (_token.Kind == TokenKind.RightParen)
                {
                    break;
                }

                throw Error(_token.Start, $"expected ',' or ')' in the call to {name}() opened at position {open.ToString(CultureInfo.InvariantCulture)}, found {Describe(_token)}");
            }
        }

        Advance();
        _depth--;
        if (arguments.Count != arity)
        {
            throw Error(nameToken.Start, $"{name}() takes {arity} argument{(arity == 1 ? "" : "s")}, found {arguments.Count}");
        }

        if (function == Function.Exists && arguments[0] is not PathNode)
        {
            throw Error(arguments[0].Position, "exists() takes a path, such as exists(output.field) or exists(inputs[\"name\"])");
        }

        return new CallNode(nameToken.Start, name, function, [.. arguments]);
    }

    private PathNode ParsePath(Token rootToken)
    {
        var root = Slice(rootToken);
        if (!_roots.Contains(root))
        {
            _roots.Add(root);
        }

        var segments = new List<PathSegment>();
        while (true)
        {
            if (_token.Kind == TokenKind.Dot)
            {
                var dot = _token;
                Advance();
                if (!_token.IsWord(_source))
                {
                    var hint = _token.Kind == TokenKind.Number ? $"; to index an array, write [{Slice(_token)}]" : "";
                    throw Error(_token.Start, $"expected a property name after '.', found {Describe(_token)}{hint}");
                }

                segments.Add(PathSegment.Property(dot.Start, Slice(_token)));
                Advance();
            }
            else if (_token.Kind == TokenKind.LeftBracket)
            {
                var open = _token;
                Advance();
                if (_token.Kind == TokenKind.Number)
                {
                    var digits = Slice(_token);
                    if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    {
                        throw Error(_token.Start, $"an array index must be a whole number from 0 to {int.MaxValue.ToString(CultureInfo.InvariantCulture)}, found {digits}");
                    }

                    segments.Add(PathSegment.Element(open.Start, index));
                }
                else if (_token.Kind == TokenKind.String)
                {
                    segments.Add(PathSegment.Property(open.Start, _token.Text!));
                }
                else
                {
                    throw Error(_token.Start, $"expected an array index (a whole number from 0) or a quoted key after '[', found {Describe(_token)}");
                }

                Advance();
                if (_token.Kind != TokenKind.RightBracket)
                {
                    throw Error(_token.Start, $"expected ']' to close the '[' at position {open.Start.ToString(CultureInfo.InvariantCulture)}, found {Describe(_token)}");
                }

                Advance();
            }
            else
            {
                return new PathNode(rootToken.Start, root, [.. segments]);
            }
        }
    }

    private Value NumberLiteral(Token token, bool negative)
    {
        var text = negative ? "-" + Slice(token) : Slice(token);
        var element = Value.ParseElement(Encoding.UTF8.GetBytes(text));
        if (!Value.FromElement(element).TryGetNumber(out _))
        {
            throw Error(token.Start, $"the number {text} is too large");
        }

        return Value.FromElement(element);
    }

    private void Enter(int position)
    {
        if (++_depth > Expression.MaxNestingDepth)
        {
            throw Error(position, $"the expression nests more than {Expression.MaxNestingDepth.ToString(CultureInfo.InvariantCulture)} levels deep (each parenthesis, function call, 'not' and unary '-' is a level); simplify it");
        }
    }

    private ExpressionException ExpectedValue()
    {
        var found = Describe(_token);
        var hint = _token.Kind == TokenKind.Not ? "; put 'not' in parentheses, or before the whole comparison" : "";
        return _previous.Kind == TokenKind.None
            ? Error(_token.Start, $"expected a value, found {found}{hint}")
            : Error(_token.Start, $"expected a value after '{Slice(_previous)}', found {found}{hint}");
    }

    private ExpressionException ExpectedOperator(string orWhat)
    {
        var hint = _token.Kind == TokenKind.Dot && _previous.Kind is TokenKind.String or TokenKind.Number or TokenKind.RightParen or TokenKind.True or TokenKind.False or TokenKind.Null
            ? "; only paths that start with a name, such as output.field, have properties"
            : "";
        return Error(_token.Start, $"expected an operator or {orWhat}, found {Describe(_token)}{hint}");
    }

    private ExpressionException Error(int position, string reason) =>
        ExpressionException.Syntax(_source, position, reason, _inTemplate);

    private string Slice(Token token) => _source.Substring(token.Start, token.Length);

    private string Describe(Token token)
    {
        switch (token.Kind)
        {
            case TokenKind.End:
                return _inTemplate ? "the end of the template" : "the end of the expression";
            case TokenKind.CloseHole:
                return "'}}'";
            case TokenKind.String:
                var text = Slice(token);
                return "the string " + (text.Length > MaxQuotedTokenLength ? string.Concat(text.AsSpan(0, MaxQuotedTokenLength), "…") : text);
            case TokenKind.Number:
                return "the number " + Slice(token);
            default:
                return $"'{Slice(token)}'";
        }
    }

    private void Advance()
    {
        _previous = _token;
        _token = Lex();
    }

    private Token Lex()
    {
        var source = _source;
        while (_position < source.Length && char.IsWhiteSpace(source[_position]))
        {
            _position++;
        }

        var start = _position;
        if (start >= source.Length)
        {
            return new Token(TokenKind.End, source.Length, 0);
        }

        var c = source[start];
        if (char.IsAsciiDigit(c))
        {
            return LexNumber(start);
        }

        if (c is '\'' or '"')
        {
            return LexString(start, c);
        }

        if (char.IsAsciiLetter(c) || c == '_')
        {
            var end = start + 1;
            while (end < source.Length && (char.IsAsciiLetterOrDigit(source[end]) || source[end] == '_'))
            {
                end++;
            }

            _position = end;
            var kind = source.AsSpan(start, end - start) switch
            {
                "true" => TokenKind.True,
                "false" => TokenKind.False,
                "null" => TokenKind.Null,
                "and" => TokenKind.And,
                "or" => TokenKind.Or,
                "not" => TokenKind.Not,
                _ => TokenKind.Identifier,
            };
            return new Token(kind, start, end - start);
        }

        var next = start + 1 < source.Length ? source[start + 1] : '\0';
        (TokenKind Kind, int Length) symbol = c switch
        {
            '=' when next == '=' => (TokenKind.Equal, 2),
            '!' when next == '=' => (TokenKind.NotEqual, 2),
            '!' => (TokenKind.Not, 1),
            '<' when next == '=' => (TokenKind.LessOrEqual, 2),
            '<' => (TokenKind.Less, 1),
            '>' when next == '=' => (TokenKind.GreaterOrEqual, 2),
            '>' => (TokenKind.Greater, 1),
            '&' when next == '&' => (TokenKind.And, 2),
            '|' when next == '|' => (TokenKind.Or, 2),
            '}' when next == '}' && _inTemplate => (TokenKind.CloseHole, 2),
            '+' => (TokenKind.Plus, 1),
            '-' => (TokenKind.Minus, 1),
            '(' => (TokenKind.LeftParen, 1),
            ')' => (TokenKind.RightParen, 1),
            '[' => (TokenKind.LeftBracket, 1),
            ']' => (TokenKind.RightBracket, 1),
            '.' => (TokenKind.Dot, 1),
            ',' => (TokenKind.Comma, 1),
            _ => (TokenKind.None, 0),
        };
        if (symbol.Kind != TokenKind.None)
        {
            _position = start + symbol.Length;
            return new Token(symbol.Kind, start, symbol.Length);
        }

        throw Error(start, c switch
        {
            '=' => "'=' is not an operator; use '==' to compare",
            '&' => "'&' is not an operator; use '&&' or 'and'",
            '|' => "'|' is not an operator; use '||' or 'or'",
            '{' when _inTemplate => "unexpected '{' inside '{{ }}'; to write '{{' as text, write '{{{{'",
            '}' when _inTemplate => "unexpected '}'; a '{{' hole is closed by '}}'",
            _ when char.IsLetter(c) => $"unexpected character '{c}'; names in paths are ASCII letters, digits and '_', so write other keys in brackets, as in output[\"{c}\"]",
            _ => $"unexpected character {DescribeCharacter(c)}",
        });
    }

    private static string DescribeCharacter(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c)
            ? string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}")
            : $"'{c}'";

    // JSON's number syntax without the sign (unary minus gives that): 0, 12, 1.5, 2e10, 1.5E-3.
    private Token LexNumber(int start)
    {
        var source = _source;
        var position = start;
        if (source[position] == '0')
        {
            position++;
            if (position < source.Length && char.IsAsciiDigit(source[position]))
            {
                throw Error(start, "a number cannot start with 0 followed by more digits (write 7, not 07)");
            }
        }
        else
        {
            while (position < source.Length && char.IsAsciiDigit(source[position]))
            {
                position++;
            }
        }

        // "1." followed by a non-digit ends the number before the dot, so that `x.0` reports the dot, not the digit.
        if (position + 1 < source.Length && source[position] == '.' && char.IsAsciiDigit(source[position + 1]))
        {
            position += 2;
            while (position < source.Length && char.IsAsciiDigit(source[position]))
            {
                position++;
            }
        }

        if (position < source.Length && source[position] is 'e' or 'E')
        {
            position++;
            if (position < source.Length && source[position] is '+' or '-')
            {
                position++;
            }

            if (position >= source.Length || !char.IsAsciiDigit(source[position]))
            {
                throw Error(position, "expected digits for the exponent of the number");
            }

            while (position < source.Length && char.IsAsciiDigit(source[position]))
            {
                position++;
            }
        }

        _position = position;
        return new Token(TokenKind.Number, start, position - start);
    }

    private Token LexString(int start, char quote)
    {
        var source = _source;
        var position = start + 1;
        var segmentStart = position;
        StringBuilder? decoded = null;
        while (true)
        {
            if (position >= source.Length)
            {
                throw Error(start, $"the string that starts at position {start.ToString(CultureInfo.InvariantCulture)} is not closed; end it with {quote}");
            }

            var c = source[position];
            if (c == quote)
            {
                break;
            }

            if (c != '\\')
            {
                position++;
                continue;
            }

            decoded ??= new StringBuilder();
            decoded.Append(source, segmentStart, position - segmentStart);
            if (position + 1 >= source.Length)
            {
                throw Error(start, $"the string that starts at position {start.ToString(CultureInfo.InvariantCulture)} is not closed; end it with {quote}");
            }

            var escape = source[position + 1];
            switch (escape)
            {
                case '\\' or '\'' or '"' or '/':
                    decoded.Append(escape);
                    break;
                case 'n':
                    decoded.Append('\n');
                    break;
                case 'r':
                    decoded.Append('\r');
                    break;
                case 't':
                    decoded.Append('\t');
                    break;
                case 'b':
                    decoded.Append('\b');
                    break;
                case 'f':
                    decoded.Append('\f');
                    break;
                case 'u':
                    if (position + 6 > source.Length
                        || !ushort.TryParse(source.AsSpan(position + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw Error(position, "'\\u' must be followed by four hexadecimal digits, as in \\u00e9");
                    }

                    decoded.Append((char)code);
                    position += 4;
                    break;
                default:
                    throw Error(position, $"unknown escape '\\{escape}' in a string; the escapes are \\\\, \\', \\\", \\/, \\n, \\r, \\t, \\b, \\f and \\uXXXX");
            }

            position += 2;
            segmentStart = position;
        }

        var text = decoded is null
            ? source.Substring(start + 1, position - start - 1)
            : decoded.Append(source, segmentStart, position - segmentStart).ToString();
        if (HasUnpairedSurrogate(text))
        {
            throw Error(start, "the string contains an unpaired surrogate (a lone \\uD800-\\uDFFF), which is not valid Unicode");
        }

        _position = position + 1;
        return new Token(TokenKind.String, start, _position - start, text);
    }

    private static bool HasUnpairedSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
