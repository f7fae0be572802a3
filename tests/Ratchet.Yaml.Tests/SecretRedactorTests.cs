using System.Net;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ratchet.Expressions;

namespace Ratchet.Yaml.Tests;

/// <summary>What the masker finds: a secret in every form Ratchet or a command could write it in, and Ratchet's own secrets.</summary>
public sealed class SecretRedactorTests
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Theory]
    [InlineData("pass'word_42")]
    [InlineData("pa\"ss\\wo rd+&/é'<x>")]
    public void Redact_SecretInEachFormItCanBeWrittenIn_MasksThatForm(string secret)
    {
        var redactor = new SecretRedactor([secret]);
        var scope = JsonSerializer.SerializeToElement(new { inputs = new { token = secret } });

        // As Ratchet renders it into `run:`, as Ratchet's and System.Text.Json's default JSON write it, and URL-encoded.
        (string Written, string Masked)[] cases =
        [
            (secret, SecretRedactor.Mask),
            (Template.Parse("--token={{ inputs.token }}").RenderForShell(scope), $"--token='{SecretRedactor.Mask}'"),
            (JsonSerializer.Serialize(secret, Relaxed), $"\"{SecretRedactor.Mask}\""),
            (JsonSerializer.Serialize(secret), $"\"{SecretRedactor.Mask}\""),
            (Uri.EscapeDataString(secret), SecretRedactor.Mask),
            (WebUtility.UrlEncode(secret), SecretRedactor.Mask),
        ];

        foreach (var (written, masked) in cases)
        {
            Assert.Equal($"before {masked} after", redactor.Redact($"before {written} after"));
        }
    }

    [Fact]
    public void FromEnvironment_MasterKeys_AreMaskedWholeAndOneByOne()
    {
        var current = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var retired = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

        var redactor = SecretRedactor.FromEnvironment([new("RATCHET_MASTER_KEY", $"{current}, {retired}"), new("HOME", "/home/someone")]);

        Assert.Equal($"key={SecretRedactor.Mask}", redactor.Redact($"key={current}, {retired}"));
        Assert.Equal($"{SecretRedactor.Mask} then {SecretRedactor.Mask}", redactor.Redact($"{current} then {retired}"));
        Assert.Equal("/home/someone", redactor.Redact("/home/someone"));
    }

    [Theory]
    [InlineData("postgres://ratchet:Pg-s3cret%2Fpw@db.internal:5432/ratchet?schema=team", "Pg-s3cret/pw")]
    [InlineData("Host=db.internal;Username=ratchet;Password=Npg-s3cret;Database=ratchet", "Npg-s3cret")]
    [InlineData("Host=db.internal;Username=ratchet;Password='Npg;s3cret';Database=ratchet", "Npg;s3cret")]
    [InlineData("redis://:Redis-s3cret@cache.internal:6379/0", "Redis-s3cret")]
    [InlineData("redis://Redis-s3cret@cache.internal:6379/0", "Redis-s3cret")]
    public void FromEnvironment_StorePassword_IsMaskedButNotTheRestOfTheUri(string uri, string password)
    {
        var redactor = SecretRedactor.FromEnvironment([new("RATCHET_STORE", uri)]);

        Assert.Equal($"pw={SecretRedactor.Mask} user=ratchet", redactor.Redact($"pw={password} user=ratchet"));
        Assert.DoesNotContain("s3cret", redactor.Redact(uri), StringComparison.Ordinal);
        Assert.Contains(".internal", redactor.Redact(uri), StringComparison.Ordinal);
    }
}
