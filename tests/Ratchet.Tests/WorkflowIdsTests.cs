namespace Ratchet.Tests;

public sealed class WorkflowIdsTests
{
    [Theory]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x00 }, "00000000")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, "ZZZZZZZZ")]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x01 }, "00000001")]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x20 }, "00000010")]
    [InlineData(new byte[] { 0x01, 0x02, 0x03, 0x04, 0x05 }, "04106105")]
    [InlineData(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF, 0x42 }, "VTPVXVT2")]
    [InlineData(new byte[] { 0x84, 0x21, 0x08, 0x42, 0x10 }, "GGGGGGGG")]
    public void Encode_KnownBytes_ReturnsBigEndianCrockfordText(byte[] bytes, string expected)
    {
        Assert.Equal(expected, WorkflowIds.Encode(bytes));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(6)]
    public void Encode_NotFiveBytes_ThrowsArgumentException(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => WorkflowIds.Encode(new byte[length]));

        Assert.Equal("fiveBytes", ex.ParamName);
        Assert.Contains("exactly 5 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrockfordAlphabet_Always_HasThirtyTwoDistinctCharactersWithoutILOU()
    {
        Assert.Equal(32, WorkflowIds.CrockfordAlphabet.Distinct().Count());
        Assert.DoesNotContain('I', WorkflowIds.CrockfordAlphabet);
        Assert.DoesNotContain('L', WorkflowIds.CrockfordAlphabet);
        Assert.DoesNotContain('O', WorkflowIds.CrockfordAlphabet);
        Assert.DoesNotContain('U', WorkflowIds.CrockfordAlphabet);
    }

    [Fact]
    public void NewId_ManyIds_AreEightCrockfordCharactersAndValid()
    {
        for (var i = 0; i < 10_000; i++)
        {
            var id = CrockfordIdGenerator.Instance.NewId();

            Assert.Equal(8, id.Length);
            Assert.All(id, c => Assert.Contains(c, WorkflowIds.CrockfordAlphabet));
            Assert.True(WorkflowIds.IsValid(id, out var problem), problem);
        }
    }

    [Fact]
    public void NewId_HundredThousandIds_AreUniqueAndUseTheWholeAlphabetInEveryPosition()
    {
        const int count = 100_000;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<char>[8];
        for (var p = 0; p < seen.Length; p++)
        {
            seen[p] = [];
        }

        for (var i = 0; i < count; i++)
        {
            var id = CrockfordIdGenerator.Instance.NewId();
            ids.Add(id);
            for (var p = 0; p < id.Length; p++)
            {
                seen[p].Add(id[p]);
            }
        }

        // 40 random bits: the birthday bound puts the expected number of colliding pairs among 100k ids at
        // 100k² / 2⁴¹ ≈ 0.005, so one collision happens about once in 200 runs and is exactly what the creator's
        // regenerate-on-collision handles. Three or more (p ≈ 2·10⁻⁸) would mean a broken random source.
        Assert.InRange(count - ids.Count, 0, 2);

        // With 100k draws each of the 32 symbols is expected ~3,125 times per position: a missing symbol means
        // biased bits (for example the top bits of the first character never set).
        Assert.All(seen, symbols => Assert.Equal(32, symbols.Count));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("7")]
    [InlineData("7K3QZ0AM")]
    [InlineData("issue-42")]
    [InlineData("release_2025.10")]
    [InlineData("A-b_C.d")]
    public void IsValid_AcceptableId_ReturnsTrueWithoutProblem(string id)
    {
        Assert.True(WorkflowIds.IsValid(id, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void IsValid_SixtyFourCharacters_ReturnsTrue()
    {
        Assert.True(WorkflowIds.IsValid(new string('x', WorkflowIds.MaxLength), out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData(null, "cannot be empty")]
    [InlineData("", "cannot be empty")]
    [InlineData("-abc", "'-abc' must start with a letter or a digit")]
    [InlineData(".hidden", "'.hidden' must start with a letter or a digit")]
    [InlineData("_x", "'_x' must start with a letter or a digit")]
    [InlineData("a b", "'a b' contains ' '")]
    [InlineData("a/b", "'a/b' contains '/'")]
    [InlineData("a\\b", "'a\\b' contains '\\'")]
    [InlineData("café", "'café' contains 'é'")]
    [InlineData("ab\n", "contains '\n'")]
    public void IsValid_UnacceptableId_ReturnsFalseWithProblemQuotingIt(string? id, string expectedFragment)
    {
        Assert.False(WorkflowIds.IsValid(id, out var problem));
        Assert.NotNull(problem);
        Assert.Contains(expectedFragment, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void IsValid_SixtyFiveCharacters_ReturnsFalseNamingLengthAndLimit()
    {
        var id = new string('x', WorkflowIds.MaxLength + 1);

        Assert.False(WorkflowIds.IsValid(id, out var problem));
        Assert.Contains("is 65 characters long; the limit is 64", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(id, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ValidId_DoesNotThrow()
    {
        var ex = Record.Exception(() => WorkflowIds.Validate("7K3QZ0AM"));

        Assert.Null(ex);
    }

    [Fact]
    public void Validate_InvalidId_ThrowsArgumentExceptionWithProblemAndParameterName()
    {
        var ex = Assert.Throws<ArgumentException>(() => WorkflowIds.Validate("no spaces", "workflowId"));

        Assert.Equal("workflowId", ex.ParamName);
        Assert.StartsWith("Workflow id 'no spaces' contains ' '", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NullId_ThrowsWithDefaultParameterName()
    {
        var ex = Assert.Throws<ArgumentException>(() => WorkflowIds.Validate(null));

        Assert.Equal("id", ex.ParamName);
        Assert.StartsWith("A workflow id cannot be empty.", ex.Message, StringComparison.Ordinal);
    }
}
