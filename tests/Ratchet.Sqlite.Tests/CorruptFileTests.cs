using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;

namespace Ratchet.Sqlite.Tests;

public sealed class CorruptFileTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string, int> Garbage() => new()
    {
        { "random", 64 * 1024 },
        { "random", 4096 },
        { "random", 100 },
        { "text", 0 },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task OpenAsync_FileOfGarbage_ThrowsStoreCorruptAndLeavesFileByteIdentical(string kind, int size)
    {
        var path = _scratch.File("garbage.db");
        await File.WriteAllBytesAsync(path, Make(kind, size));
        var before = await FileFingerprint.CaptureAsync(path);

        var ex = await Assert.ThrowsAsync<StoreCorruptException>(() => SqliteTestStores.OpenAsync(path, new FakeTimeProvider(TestClock.Start)));

        Assert.Equal(before, await FileFingerprint.CaptureAsync(path));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", ex.Message, StringComparison.Ordinal);
        Assert.Equal("store-corrupt", ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task MigrateAsync_FileOfGarbage_ThrowsStoreCorruptAndLeavesFileByteIdentical()
    {
        var path = _scratch.File("garbage-migrate.db");
        await File.WriteAllBytesAsync(path, Make("random", 8192));
        var before = await FileFingerprint.CaptureAsync(path);

        await Assert.ThrowsAsync<StoreCorruptException>(() => SqliteMigrations.MigrateAsync(path, SqliteMigrations.LatestVersion));

        Assert.Equal(before, await FileFingerprint.CaptureAsync(path));
    }

    [Fact]
    public async Task GetAppliedAsync_FileOfGarbage_ThrowsStoreCorrupt()
    {
        var path = _scratch.File("garbage-applied.db");
        await File.WriteAllBytesAsync(path, Make("random", 8192));

        await Assert.ThrowsAsync<StoreCorruptException>(() => SqliteMigrations.GetAppliedAsync(path));
    }

    private static byte[] Make(string kind, int size)
    {
        if (kind == "text")
        {
            return "{\"this is\": \"a JSON file, not a database\"}\n"u8.ToArray();
        }

        // Seeded, so a failure reproduces; never starts with SQLite's "SQLite format 3" header by construction.
        var bytes = new byte[size];
        new Random(20_260_101 + size).NextBytes(bytes);
        bytes[0] = (byte)'X';
        return bytes;
    }
}
