using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace Regards.Portal.Downloads;

/// <summary>The client left (or was dropped for taking no data): what was being written did not go.</summary>
public sealed class ClientGoneException(string message) : IOException(message);

/// <summary>
/// The body of a download response (file, zip, metalink), written to the server's connection pipe:
/// <list type="bullet">
/// <item>it counts the bytes the connection took (<see cref="Delivered"/>) and throws <see cref="ClientGoneException"/>
/// at the first write after the client has left. Kestrel accepts writes, and discards them, from the moment the
/// connection is gone until it signals the request aborted a moment later (on the thread pool), and after the last
/// byte of a response with a Content-Length it never signals it: a response written to its end is delivered only if
/// every write's result says that the connection still took it.</item>
/// <item>a write the client does not take within the grace period plus the time to take it at
/// <see cref="DownloadOptions.MinResponseDataRate"/> drops the connection (<see cref="StallWatchdog"/>): a client that
/// opens a zip and stops reading releases its slot and its quota reservations. Unless the connection shows the client
/// is taking data (<see cref="TcpProgress"/>): the kernel wakes a waiting write only once half of its send buffer (up to
/// megabytes) has gone, so a client reading steadily above the rate could wait longer than that for one write.</item>
/// </list>
/// Writes go in pieces of at most 64 KB (the connection's buffer) so that each one's deadline measures the client.
/// </summary>
public sealed class ResponseWriter : Stream
{
    public const int PieceSize = 64 * 1024;

    private readonly HttpContext context;
    private readonly PipeWriter writer;
    private readonly StallWatchdog? watchdog;
    private readonly Socket? socket;
    private readonly Lock gate = new();
    private long delivered;
    private long sent;
    private long deadline;
    // Bytes the client's TCP acknowledged when the watchdog last saw this write waiting (-1: not seen yet, or unknown),
    // and until when the progress it saw since extends the write's deadline. Cleared by each waiting write (an extension
    // belongs to the write it was seen for), then advanced by the watchdog.
    private long ackedMark = -1;
    private long extendedUntil;
    private bool stalled;
    private bool disposed;

    internal ResponseWriter(HttpContext context, StallWatchdog? watchdog)
    {
        this.context = context;
        writer = context.Response.BodyWriter;
        this.watchdog = watchdog;
        socket = watchdog is null ? null : context.Features.Get<IConnectionSocketFeature>()?.Socket;
        watchdog?.Watch(this);
    }

    /// <summary>Bytes the connection took while the client was there.</summary>
    public long Delivered => Interlocked.Read(ref delivered);

    /// <summary>
    /// Bytes handed to the connection: <see cref="Delivered"/> and the piece being written when the client was seen
    /// leaving, which it may have taken in part (the connection does not say how much). What a client cut short can
    /// have received is at most this: it resumes from no further.
    /// </summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Dropped for taking no data.</summary>
    public bool Stalled
    {
        get
        {
            lock (gate)
            {
                return stalled;
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var piece = buffer[..Math.Min(buffer.Length, PieceSize)];
            // The piece goes into the connection's pipe, then the write waits for the connection to take it.
            await SendAsync(writer.WriteAsync(piece, cancellationToken), piece.Length);
            buffer = buffer[piece.Length..];
        }
    }

    /// <summary>
    /// Reads at most <paramref name="length"/> bytes (a piece at most) of <paramref name="source"/> straight into the
    /// connection's buffer and sends them: one buffer of the read's size instead of the pipe's 4 KB blocks, and no copy
    /// of the bytes in between. For a source whose synchronous read is quick (a local file in one read). The response has
    /// started: before, the connection lends a buffer that it copies again. Returns the bytes read, 0 at the source's end.
    /// </summary>
    public async ValueTask<int> WriteFromAsync(Stream source, int length, CancellationToken cancellationToken)
    {
        length = Math.Min(length, PieceSize);
        var read = source.Read(writer.GetMemory(length).Span[..length]);
        if (read == 0)
        {
            return 0;
        }
        writer.Advance(read);
        await SendAsync(writer.FlushAsync(cancellationToken), read);
        return read;
    }

    /// <summary>Waits, watched, for the connection to take <paramref name="bytes"/> handed to it; counts them sent, then delivered.</summary>
    private async ValueTask SendAsync(ValueTask<FlushResult> pending, int bytes)
    {
        Interlocked.Add(ref sent, bytes);
        Check(await Watched(pending, bytes));
        Interlocked.Add(ref delivered, bytes);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken) =>
        Check(await Watched(writer.FlushAsync(cancellationToken), PieceSize));

    private ValueTask<FlushResult> Watched(ValueTask<FlushResult> pending, int bytes) =>
        pending.IsCompleted || watchdog is null ? pending : AwaitWatched(pending, bytes);

    private async ValueTask<FlushResult> AwaitWatched(ValueTask<FlushResult> pending, int bytes)
    {
        Volatile.Write(ref ackedMark, -1);
        Volatile.Write(ref extendedUntil, 0);
        Volatile.Write(ref deadline, watchdog!.DeadlineFor(bytes));
        try
        {
            return await pending;
        }
        finally
        {
            Volatile.Write(ref deadline, 0);
        }
    }

    private void Check(FlushResult result)
    {
        if (Stalled)
        {
            throw new ClientGoneException("The client took no data for too long and was dropped.");
        }
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new ClientGoneException("The client left.");
        }
    }

    /// <summary>
    /// Called by the watchdog: drops the connection when a write has waited past its deadline, unless the connection
    /// shows the client taking data: each time the watchdog sees another piece (64 KB) acknowledged, the write gets
    /// another <paramref name="allowance"/> (the deadline of a piece) from then.
    /// </summary>
    internal bool DropIfStalled(long now, long allowance)
    {
        var due = Volatile.Read(ref deadline);
        if (due == 0)
        {
            return false;
        }
        var acked = TcpProgress.BytesAcked(socket);
        var mark = Volatile.Read(ref ackedMark);
        if (acked >= 0 && (mark < 0 || acked - mark >= PieceSize))
        {
            // First look at this wait, or the client took a piece since the last: the deadline runs from now.
            Volatile.Write(ref ackedMark, acked);
            if (mark >= 0)
            {
                Volatile.Write(ref extendedUntil, now + allowance);
            }
        }
        if (now <= Math.Max(due, Volatile.Read(ref extendedUntil)))
        {
            return false;
        }
        lock (gate)
        {
            // Under the lock that Dispose takes: the request is still this one (a connection's context is reused).
            if (disposed || stalled)
            {
                return false;
            }
            stalled = true;
            context.Abort();
            return true;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (gate)
            {
                disposed = true;
            }
            watchdog?.Forget(this);
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // Synchronous writes are refused by the server; a synchronous flush has nothing to do (every write flushes).
    public override void Flush()
    {
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new InvalidOperationException("Download responses are written asynchronously.");

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// Drops download responses whose client stopped taking data: once a second it looks at the writes waiting for their
/// client, and aborts the connection of one waiting past its deadline (<see cref="DownloadOptions.MinResponseDataRate"/>,
/// <see cref="DownloadOptions.MinResponseDataRateGracePeriod"/>). One timer for all responses; none when the rate is 0.
/// </summary>
public sealed class StallWatchdog : IDisposable
{
    private readonly ConcurrentDictionary<ResponseWriter, byte> watched = new();
    private readonly TimeProvider time;
    private readonly ILogger<StallWatchdog> logger;
    private readonly ITimer? timer;
    private readonly long grace;
    private readonly double ticksPerByte;

    public StallWatchdog(IOptions<DownloadOptions> options, TimeProvider time, ILogger<StallWatchdog> logger)
    {
        this.time = time;
        this.logger = logger;
        var o = options.Value;
        Enabled = o.MinResponseDataRate > 0;
        grace = (long)(o.MinResponseDataRateGracePeriod.TotalSeconds * time.TimestampFrequency);
        ticksPerByte = Enabled ? (double)time.TimestampFrequency / o.MinResponseDataRate : 0;
        if (Enabled)
        {
            var period = TimeSpan.FromMilliseconds(Math.Clamp(o.MinResponseDataRateGracePeriod.TotalMilliseconds / 2, 100, 1000));
            timer = time.CreateTimer(_ => Check(), null, period, period);
        }
    }

    public bool Enabled { get; }

    /// <summary>The body of a download response: watched when a minimum rate applies.</summary>
    public ResponseWriter Open(HttpContext context) => new(context, Enabled ? this : null);

    internal void Watch(ResponseWriter writer) => watched.TryAdd(writer, 0);

    internal void Forget(ResponseWriter writer) => watched.TryRemove(writer, out _);

    /// <summary>When a write of <paramref name="bytes"/> starting now must have been taken by the client.</summary>
    internal long DeadlineFor(int bytes) => time.GetTimestamp() + grace + (long)(bytes * ticksPerByte);

    private void Check()
    {
        var now = time.GetTimestamp();
        var allowance = grace + (long)(ResponseWriter.PieceSize * ticksPerByte);
        foreach (var writer in watched.Keys)
        {
            if (writer.DropIfStalled(now, allowance))
            {
                logger.LogInformation("A download client took no data for too long: connection dropped");
            }
        }
    }

    public void Dispose() => timer?.Dispose();
}

/// <summary>
/// How much of what was sent the client's TCP has acknowledged (Linux <c>TCP_INFO</c>, <c>tcpi_bytes_acked</c>, since
/// Linux 4.1): progress a waiting write does not see. -1 when unknown (another system, no socket: behind a test server).
/// </summary>
public static class TcpProgress
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const int BytesAckedOffset = 120;

    public static long BytesAcked(Socket? socket)
    {
        if (socket is null || !OperatingSystem.IsLinux())
        {
            return -1;
        }
        Span<byte> info = stackalloc byte[232];
        try
        {
            var length = socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
            return length >= BytesAckedOffset + sizeof(long) ? BinaryPrimitives.ReadInt64LittleEndian(info[BytesAckedOffset..]) : -1;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return -1;
        }
    }
}
