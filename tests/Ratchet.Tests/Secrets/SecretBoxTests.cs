using System.Text;
using Ratchet.Secrets;

namespace Ratchet.Tests.Secrets;

public sealed class SecretBoxTests
{
    private const string Secret = "sk-live-0123456789abcdef";

    private readonly MasterKey _key = MasterKey.Generate();

    [Fact]
    public void Encrypt_ThenDecrypt_RoundTripsAndNeverHoldsThePlaintext()
    {
        var envelope = SecretBox.Encrypt(_key, Secret, "ratchet.providers/openai");

        Assert.StartsWith($"v1:{_key.Id}:", envelope, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, envelope, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)), envelope, StringComparison.Ordinal);
        Assert.Equal(Secret, SecretBox.Decrypt(Ring(_key), envelope, "ratchet.providers/openai", "the test key"));
        Assert.Equal(_key.Id, SecretBox.KeyIdOf(envelope));
    }

    [Fact]
    public void Encrypt_SameSecretTwice_GivesDifferentCiphertexts()
    {
        Assert.NotEqual(SecretBox.Encrypt(_key, Secret, "a"), SecretBox.Encrypt(_key, Secret, "a"));
    }

    [Fact]
    public void Decrypt_AlteredCiphertext_ThrowsSecretCorrupt()
    {
        var parts = SecretBox.Encrypt(_key, Secret, "a").Split(':');
        var bytes = Convert.FromBase64String(parts[3]);
        bytes[0] ^= 1;
        var altered = string.Join(':', parts[0], parts[1], parts[2], Convert.ToBase64String(bytes));

        var error = Assert.Throws<SecretCorruptException>(() => SecretBox.Decrypt(Ring(_key), altered, "a", "the API key of provider 'a'"));

        Assert.Equal("secret-corrupt", error.ErrorCode);
        Assert.StartsWith("The encrypted value of the API key of provider 'a' cannot be read: it fails authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decrypt_OtherAssociatedData_ThrowsSecretCorrupt()
    {
        var envelope = SecretBox.Encrypt(_key, Secret, "ratchet.providers/openai");

        Assert.Throws<SecretCorruptException>(() => SecretBox.Decrypt(Ring(_key), envelope, "ratchet.providers/other", "x"));
    }

    [Theory]
    [InlineData("plain text")]
    [InlineData("v2:abc:def:ghi")]
    [InlineData("v1:abc:not base64!:AAAA")]
    public void Decrypt_NotAnEnvelope_ThrowsSecretCorrupt(string envelope)
    {
        Assert.Throws<SecretCorruptException>(() => SecretBox.Decrypt(Ring(_key), envelope, "a", "x"));
    }

    [Fact]
    public void Decrypt_UnderAnotherKey_ThrowsMismatchNamingBothKeys()
    {
        var other = MasterKey.Generate();
        var envelope = SecretBox.Encrypt(_key, Secret, "a");

        var error = Assert.Throws<MasterKeyMismatchException>(() => SecretBox.Decrypt(new MasterKeyRing([other], "RATCHET_MASTER_KEY"), envelope, "a", "the API key of provider 'a'"));

        Assert.Equal((_key.Id, other.Id), (error.KeyId, error.CurrentKeyId));
        Assert.StartsWith(
            $"The API key of provider 'a' was encrypted under master key {_key.Id}, but the master key in use (RATCHET_MASTER_KEY) is {other.Id} and no retired key there matches.",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decrypt_WithTheKeyRetiredInTheRing_Succeeds()
    {
        var envelope = SecretBox.Encrypt(_key, Secret, "a");

        Assert.Equal(Secret, SecretBox.Decrypt(Ring(_key).Prepend(MasterKey.Generate()), envelope, "a", "x"));
    }

    [Fact]
    public void MasterKeyParse_HexAndBase64OfTheSameBytes_GiveTheSameId()
    {
        var bytes = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var hex = MasterKey.Parse(Convert.ToHexString(bytes), "test");
        var base64 = MasterKey.Parse(" " + Convert.ToBase64String(bytes) + "\n", "test");

        Assert.Equal(hex.Id, base64.Id);
        Assert.Equal(12, hex.Id.Length);
        Assert.DoesNotContain(hex.ToBase64(), hex.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("c2hvcnQ=")]
    [InlineData("zz")]
    public void MasterKeyParse_NotA32ByteKey_ThrowsUnavailable(string text)
    {
        var error = Assert.Throws<MasterKeyUnavailableException>(() => MasterKeyRing.Parse(text, "RATCHET_MASTER_KEY"));

        Assert.Contains("RATCHET_MASTER_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MasterKeyRingParse_CommaSeparated_FirstIsCurrent()
    {
        var (first, second) = (MasterKey.Generate(), MasterKey.Generate());

        var ring = MasterKeyRing.Parse($"{first.ToBase64()}, {second.ToBase64()}", "test");

        Assert.Equal([first.Id, second.Id], ring.Keys.Select(k => k.Id));
        Assert.Equal(first.Id, ring.Current.Id);
    }

    private static MasterKeyRing Ring(MasterKey key) => new([key], "test");
}
