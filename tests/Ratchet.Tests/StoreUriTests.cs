using Ratchet.Storage;

namespace Ratchet.Tests;

public sealed class StoreUriTests
{
    [Theory]
    [InlineData("postgres://ratchet:s3cret@db:5432/ratchet", "postgres://ratchet@db:5432/ratchet", new[] { "s3cret" })]
    [InlineData("postgresql://ratchet:p%40ss%2Fw@db/ratchet?schema=a", "postgresql://ratchet@db/ratchet?schema=a", new[] { "p%40ss%2Fw", "p@ss/w" })]
    [InlineData("redis://:s3cret@cache:6379/0", "redis://cache:6379/0", new[] { "s3cret" })]
    [InlineData("rediss://user:s3cret@cache:6380", "rediss://user@cache:6380", new[] { "s3cret" })]
    [InlineData("redis://s3cret@cache:6379", "redis://cache:6379", new[] { "s3cret" })]
    [InlineData("Host=db;Username=ratchet;Password=s3cret;Database=r", "Host=db;Username=ratchet;Database=r", new[] { "s3cret" })]
    [InlineData("Host=db; pwd = 's;3''c' ;Database=r", "Host=db;Database=r", new[] { "'s;3''c'", "s;3'c" })]
    [InlineData("Host=db;Database=r;PASSWORD=\"a;b\"", "Host=db;Database=r", new[] { "\"a;b\"", "a;b" })]
    public void PasswordsAndWithoutPassword_UriOrConnectionStringWithAPassword_FindAndRemoveIt(string uri, string without, string[] passwords)
    {
        Assert.Equal(passwords, StoreUri.Passwords(uri));
        Assert.Equal(without, StoreUri.WithoutPassword(uri));
    }

    [Theory]
    [InlineData("sqlite:.ratchet/ratchet.db")]
    [InlineData("sqlite:/srv/a@b/ratchet.db")]
    [InlineData("files:.ratchet/state")]
    [InlineData("postgres://ratchet@db:5432/ratchet")]
    [InlineData("redis://cache:6379/0")]
    [InlineData("Host=db;Username=ratchet;Database=r")]
    public void PasswordsAndWithoutPassword_NoPassword_FindNoneAndKeepTheUri(string uri)
    {
        Assert.Empty(StoreUri.Passwords(uri));
        Assert.Equal(uri, StoreUri.WithoutPassword(uri));
    }
}
