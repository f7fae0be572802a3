namespace Ratchet.Expressions;

internal enum TokenKind
{
    None,
    End,
    CloseHole,
    Number,
    String,
    Identifier,
    True,
    False,
    Null,
    And,
    Or,
    Not,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Plus,
    Minus,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Dot,
    Comma,
}

/// <param name="Kind">What the token is.</param>
/// <param name="Start">Its offset in the source.</param>
/// <param name="Length">Its length in the source.</param>
/// <param name="Text">The decoded value of a string literal; null for other tokens.</param>
internal readonly record struct Token(TokenKind Kind, int Start, int Length, string? Text = null)
{
    public int End => Start + Length;

    public bool IsComparison => Kind is >= TokenKind.Equal and <= TokenKind.GreaterOrEqual;

    public bool IsWord(string source) =>
        Kind is TokenKind.Identifier or TokenKind.True or TokenKind.False or TokenKind.Null
        || (Kind is TokenKind.And or TokenKind.Or or TokenKind.Not && char.IsAsciiLetter(source[Start]));
}
