using System.Text;

namespace Ratchet.Yaml.Tests;

/// <summary>
/// How a command's output is taken in pieces: masked across the pieces' boundaries, kept whole only up to its cap,
/// its tail bounded whatever the line length, and its log cut at a size with a note of what was dropped.
/// </summary>
public sealed class CommandOutputTests : IDisposable
{
    private const string Secret = "s3cr3t-Token-9f8e7d";

    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void StreamingRedactor_SecretSplitAtEveryPosition_IsMaskedWhole()
    {
        var redactor = new SecretRedactor([Secret]);
        var text = $"before {Secret} middle {Secret}\nafter{Secret}";

        for (var cut = 0; cut <= text.Length; cut++)
        {
            var streaming = redactor.Streaming();
            var masked = streaming.Push(text.AsSpan(0, cut)) + streaming.Push(text.AsSpan(cut)) + streaming.Flush();

            Assert.Equal($"before *** middle ***\nafter***", masked);
        }
    }

    [Fact]
    public void StreamingRedactor_OneCharacterAtATime_MasksSecretsThatSpanLineBreaksAndContainEachOther()
    {
        var redactor = new SecretRedactor(["pass-word\nline2", "abcdef", "abcd"]);
        var text = "x pass-word\nline2 y abcdef z abcd! abc";
        var masked = new StringBuilder();
        var streaming = redactor.Streaming();

        foreach (var c in text)
        {
            masked.Append(streaming.Push([c]));
        }

        Assert.Equal("x *** y *** z ***! abc", masked.Append(streaming.Flush()).ToString());
    }

    [Fact]
    public void StreamingRedactor_TextThatCannotStartASecret_IsPassedOnAtOnce()
    {
        var streaming = new SecretRedactor([Secret]).Streaming();

        // A line waiting in a quiet command's log would be a line nobody can see.
        Assert.Equal("waiting for the server\n", streaming.Push("waiting for the server\n"));
        Assert.Equal(0, streaming.Held);
        Assert.Equal("token: ", streaming.Push("token: s3cr"));
        Assert.Equal(4, streaming.Held);
        Assert.Equal("s3cr3 is no secret\n", streaming.Push("3 is no secret\n"));
        Assert.Equal(0, streaming.Held);
    }

    [Fact]
    public void OutputTail_OneLineMuchLongerThanTheTail_KeepsOnlyItsLastCharacters()
    {
        var tail = new OutputTail(100);
        var chunk = new string('y', 16 * 1024);

        for (var i = 0; i < 64; i++)
        {
            tail.Append(chunk);
        }

        tail.Append("END\n");

        Assert.Equal(new string('y', 97) + "END", tail.ToString());
    }

    [Fact]
    public void OutputTail_ManyLines_StartsAtALineAndDropsTheFinalLineBreak()
    {
        var tail = new OutputTail(20);

        foreach (var line in Enumerable.Range(0, 50).Select(i => $"line {i}\n"))
        {
            tail.Append(line);
        }

        Assert.Equal("line 48\nline 49", tail.ToString());
    }

    [Fact]
    public void OutputCapture_PastTheCap_CountsEveryByteAndKeepsNothing()
    {
        var capture = new OutputCapture(maxBytes: 10);

        capture.Append("héllo");
        Assert.Equal(("héllo", 6L, false), (capture.Text, capture.Bytes, capture.Overflowed));

        // A surrogate pair split between two reads counts its 4 bytes, once.
        capture.Append("\uD83D");
        capture.Append("\uDE00");
        Assert.Equal(("héllo\uD83D\uDE00", 10L, false), (capture.Text, capture.Bytes, capture.Overflowed));

        capture.Append("!");
        capture.Append(new string('x', 1000));
        Assert.Equal(("", 1011L, true), (capture.Text, capture.Bytes, capture.Overflowed));
    }

    [Fact]
    public async Task NodeLog_PastTheCap_CutsWithAMarkerAndSaysHowMuchItDropped()
    {
        var path = _scratch.File("cap.log");
        await using (var log = new NodeLog(path, maxBytes: 100))
        {
            await log.WriteLineAsync("== header");
            var stdout = log.CreateSource("");
            for (var i = 0; i < 10; i++)
            {
                await log.WriteAsync(stdout, new string((char)('a' + i), 29) + "\n");
            }

            await log.CompleteAsync(stdout);
            Assert.Equal(200, log.Dropped);
            await log.WriteLineAsync("== exit 0");
        }

        Assert.Equal(
            "== header\n" + new string('a', 29) + "\n" + new string('b', 29) + "\n" + new string('c', 29) + "\n" + new string('d', 10) + "\n"
            + "== log cut at 100 bytes: the rest of this attempt's output is not logged\n"
            + "== 200 bytes of output not logged: the log keeps 100 bytes of output per attempt\n"
            + "== exit 0\n",
            await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task NodeLog_LongLineWhileTheOtherStreamWrites_KeepsEachStreamOnLinesOfItsOwn()
    {
        var path = _scratch.File("streams.log");
        var longLine = new string('x', NodeLog.LongLine + 10);
        await using (var log = new NodeLog(path, maxBytes: 1 << 20))
        {
            var stdout = log.CreateSource("");
            var stderr = log.CreateSource("[stderr] ");
            await log.WriteAsync(stdout, "one\ntw");
            await log.WriteAsync(stderr, "e1\ne2\ne");
            await log.WriteAsync(stdout, "o\n" + longLine);
            await log.WriteAsync(stderr, "3\n");
            await log.WriteAsync(stdout, "end");
            await log.CompleteAsync(stdout);
            await log.CompleteAsync(stderr);
            await log.WriteLineAsync("== exit 0");
        }

        // The long line is written as it comes, so the other stream's line breaks it; both stay readable.
        Assert.Equal(
            $"one\n[stderr] e1\n[stderr] e2\ntwo\n{longLine}\n[stderr] e3\nend\n== exit 0\n",
            await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task StreamCapture_SecretsCutByEveryRead_NeverReachTheLogOrTheTail()
    {
        var path = _scratch.File("secret.log");
        var text = string.Concat(Enumerable.Repeat("ab" + Secret, 1000));
        StreamCapture capture;
        await using (var log = new NodeLog(path, maxBytes: 1 << 20))
        {
            capture = new StreamCapture(new SecretRedactor([Secret]), log, "", tailChars: 50, maxOutputBytes: 1 << 20);

            // Reads of 7 characters split the secret at every offset in turn.
            for (var at = 0; at < text.Length; at += 7)
            {
                await capture.AppendAsync(text.AsMemory(at, Math.Min(7, text.Length - at)));
            }

            await capture.CompleteAsync();
        }

        var masked = string.Concat(Enumerable.Repeat("ab***", 1000));
        Assert.Equal(masked + "\n", await File.ReadAllTextAsync(path));
        Assert.Equal(masked[^50..], capture.Tail.ToString());
        Assert.Equal(text, capture.Output!.Text);
    }

    [Theory]
    [InlineData(0, "0 bytes")]
    [InlineData(1, "1 byte")]
    [InlineData(4096, "4 KiB")]
    [InlineData(16 * 1024 * 1024, "16 MiB")]
    [InlineData(232891136, "222.1 MiB")]
    [InlineData(3L << 30, "3 GiB")]
    public void Sizes_Format_ReadsAsPeopleWriteThem(long bytes, string expected) => Assert.Equal(expected, Sizes.Format(bytes));
}
