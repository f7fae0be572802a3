using Ratchet.Storage;

namespace Ratchet.Tests;

public sealed class KeyValueNamesTests
{
    [Theory]
    [InlineData("default")]
    [InlineData("7K3QZ0AM")]
    [InlineData("with space")]
    [InlineData("dots.and:colons")]
    [InlineData("ünïcødé-名前")]
    [InlineData("x")]
    public void ValidateName_UsableName_DoesNotThrow(string name)
    {
        var ex = Record.Exception(() => KeyValueNames.ValidateName(name, "key", "key"));

        Assert.Null(ex);
    }

    [Fact]
    public void ValidateName_MaxLength_DoesNotThrow()
    {
        var ex = Record.Exception(() => KeyValueNames.ValidateName(new string('k', KeyValueNames.MaxLength), "key", "key"));

        Assert.Null(ex);
    }

    [Fact]
    public void ValidateName_OneOverMaxLength_ThrowsNamingLengthAndLimit()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            KeyValueNames.ValidateName(new string('k', KeyValueNames.MaxLength + 1), "checkpoint name", "name"));

        Assert.Equal("name", ex.ParamName);
        Assert.StartsWith("The checkpoint name 'kkkkkkkkkkkkkkkk…' is 257 characters long; the limit is 256.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void ValidateName_Empty_ThrowsSayingItCannotBeEmpty(string? name)
    {
        var ex = Assert.Throws<ArgumentException>(() => KeyValueNames.ValidateName(name!, "namespace", "ns"));

        Assert.Equal("ns", ex.ParamName);
        Assert.StartsWith("A namespace cannot be empty.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("tab\there")]
    [InlineData("nul\0")]
    [InlineData("\u007f")]
    public void ValidateName_ForbiddenCharacter_ThrowsQuotingTheName(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => KeyValueNames.ValidateName(name, "key", "key"));

        Assert.StartsWith($"The key '{name}' contains a control character, '/' or '\\'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadNamespaceAndKey_ReportsTheNamespaceFirst()
    {
        var ex = Assert.Throws<ArgumentException>(() => KeyValueNames.Validate("", ""));

        Assert.Equal("namespace", ex.ParamName);
    }
}
