using System.Globalization;
using System.Security.Cryptography;
using Regards.Portal.Catalog;

namespace Regards.Portal.Processing;

/// <summary>A file written by an execution, stored in the order's cache.</summary>
public sealed record ProcessingOutput(string Name, string Location, long Size, string Sha256, string Md5, string MimeType, string DataObjectId, DataType DataType);

/// <summary>
/// One execution of a processing on a sub-order's inputs. Outputs go straight to the order's cache through a stream
/// that hashes and counts what is written, so nothing is buffered and every output has its size, SHA-256 and MD5
/// (the metalinks carry both: MD5 is the hash REGARDS clients verify).
/// </summary>
public sealed class ProcessingExecution(
    IReadOnlyList<ProcessingInput> inputs,
    IReadOnlyDictionary<string, string> parameters,
    Func<string, (Stream Stream, string Location)> createFile)
{
    private readonly List<ProcessingOutput> outputs = [];
    private readonly HashSet<string> names = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<ProcessingInput> Inputs => inputs;

    /// <summary>Every declared parameter, defaults applied, already validated.</summary>
    public IReadOnlyDictionary<string, string> Parameters => parameters;

    public IReadOnlyList<ProcessingOutput> Outputs => outputs;

    public string Text(string name) => parameters[name];

    public long Integer(string name) => long.Parse(parameters[name], NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>Opens a new output; it is recorded when the returned stream is disposed. Names are made unique.</summary>
    public Stream CreateOutput(string name, string mimeType, ProcessingInput? source)
    {
        var unique = UniqueName(SafeName(name));
        var (stream, location) = createFile(unique);
        var dataObjectId = source?.DataObjectId ?? (inputs.Count > 0 ? inputs[0].DataObjectId : "processing");
        return new RecordingStream(stream, written => outputs.Add(new ProcessingOutput(unique, location, written.Bytes, written.Sha256, written.Md5, mimeType, dataObjectId, source?.DataType ?? DataType.RawData)));
    }

    private static string SafeName(string name)
    {
        var file = Path.GetFileName(name);
        var invalid = Path.GetInvalidFileNameChars();
        var cleaned = new string(file.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c).ToArray()).Trim();
        return cleaned.Length == 0 || cleaned is "." or ".." ? "output" : cleaned.Length > 200 ? cleaned[^200..] : cleaned;
    }

    private string UniqueName(string name)
    {
        var candidate = name;
        for (var i = 2; !names.Add(candidate); i++)
        {
            candidate = $"{Path.GetFileNameWithoutExtension(name)}({i}){Path.GetExtension(name)}";
        }
        return candidate;
    }

    /// <summary>Write-only pass-through that computes the SHA-256, the MD5 and the length of what goes through it
    /// (both hashes over the same buffers: one pass).</summary>
    private sealed class RecordingStream(Stream inner, Action<(long Bytes, string Sha256, string Md5)> completed) : Stream
    {
        private readonly IncrementalHash sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private long length;
        private bool disposed;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => length;
        public override long Position { get => length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Hash(buffer);
            length += buffer.Length;
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Hash(buffer.Span);
            length += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Hash(ReadOnlySpan<byte> buffer)
        {
            sha256.AppendData(buffer);
            md5.AppendData(buffer);
        }

        private void Complete()
        {
            completed((length, Convert.ToHexStringLower(sha256.GetHashAndReset()), Convert.ToHexStringLower(md5.GetHashAndReset())));
            sha256.Dispose();
            md5.Dispose();
        }

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !disposed)
            {
                disposed = true;
                inner.Dispose();
                Complete();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (!disposed)
            {
                disposed = true;
                await inner.DisposeAsync();
                Complete();
            }
            GC.SuppressFinalize(this);
        }
    }
}
