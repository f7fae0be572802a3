namespace Ratchet.Redis;

/// <summary>
/// The few Redis operations the store needs, so that the driver can be swapped without touching the store. Every
/// method translates the driver's errors into <see cref="RatchetException"/>s; none lets a driver exception escape.
/// </summary>
internal interface IRedisClient : IAsyncDisposable
{
    /// <summary>The server as <c>host:port</c>, for messages.</summary>
    string Endpoint { get; }

    /// <summary>Runs a script by its SHA-1 (EVALSHA), loading it first when the server does not know it (NOSCRIPT).</summary>
    Task<RedisReply> EvaluateAsync(RedisScript script, IReadOnlyList<string> arguments, CancellationToken cancellationToken);

    /// <summary>A string value; null when the key does not exist.</summary>
    Task<string?> StringGetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Sets a string value unless the key exists (SET NX); whether it was set.</summary>
    Task<bool> StringSetIfAbsentAsync(string key, string value, CancellationToken cancellationToken);

    /// <summary>One field of a hash; null when the key or field does not exist.</summary>
    Task<string?> HashGetAsync(string key, string field, CancellationToken cancellationToken);

    /// <summary>Every field of a hash (empty when the key does not exist).</summary>
    Task<IReadOnlyList<KeyValuePair<string, string>>> HashGetAllAsync(string key, CancellationToken cancellationToken);

    /// <summary>Members of a sorted set with a score in [min, max], by score then member, from <paramref name="skip"/>.</summary>
    Task<IReadOnlyList<string>> SortedSetRangeByScoreAsync(string key, double min, double max, long skip, long take, CancellationToken cancellationToken);

    /// <summary>The members of a set.</summary>
    Task<IReadOnlyList<string>> SetMembersAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// The server's configuration parameters matching <paramref name="parameters"/> (CONFIG GET); null when the server
    /// refuses CONFIG (renamed, disabled or not granted by its ACL, as managed services do).
    /// </summary>
    Task<IReadOnlyDictionary<string, string>?> ConfigGetAsync(IReadOnlyList<string> parameters, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="onMessage"/> for every message on <paramref name="channel"/> until disposed.</summary>
    Task<IDisposable> SubscribeAsync(string channel, Action onMessage, CancellationToken cancellationToken);

    /// <summary>Deletes every key matching <paramref name="pattern"/> (SCAN, then DEL in batches); how many.</summary>
    Task<long> DeleteKeysAsync(string pattern, CancellationToken cancellationToken);
}

/// <summary>A script's reply, read as the shape the script is known to return.</summary>
internal abstract class RedisReply
{
    /// <summary>Whether the reply is nil (a Lua false or nil).</summary>
    public abstract bool IsNull { get; }

    /// <summary>The reply as text (a bulk or status reply, or an integer in decimal).</summary>
    public abstract string AsText();

    /// <summary>The reply as an integer.</summary>
    public abstract long AsInteger();

    /// <summary>The reply as an array (a Lua table).</summary>
    public abstract IReadOnlyList<RedisReply> AsArray();
}

/// <summary>A Lua script with its SHA-1, for EVALSHA.</summary>
internal sealed class RedisScript
{
    public RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
        Sha1 = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        Sha1Hex = Convert.ToHexStringLower(Sha1);
    }

    /// <summary>The script's name, for messages.</summary>
    public string Name { get; }

    /// <summary>The Lua source.</summary>
    public string Text { get; }

    /// <summary>The SHA-1 of the source, the name Redis caches it under.</summary>
    public byte[] Sha1 { get; }

    /// <summary>The SHA-1 in lower-case hex.</summary>
    public string Sha1Hex { get; }
}
