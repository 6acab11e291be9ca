"""Lists a zip's entries as Python reads them, one line each (the same columns as ZipEntries.java):
name, size, compressed size and CRC-32 the archive declares, then bytes read and their CRC-32 [and SHA-256].

"python3 zip_entries.py [--sha256] -" reads standard input as a streaming reader must: local header after local
header, each entry inflated until its deflate stream ends (nothing says where else), the bytes read past it handed
back, then its data descriptor, whose 8-byte sizes the spec announces by a ZIP64 extra field in the local header.
"python3 zip_entries.py [--sha256] FILE" opens FILE with zipfile (random access, through the central directory).
Standard library only.
"""
import hashlib
import struct
import sys
import zipfile
import zlib

LOCAL_HEADER, CENTRAL_HEADER, DATA_DESCRIPTOR = b"PK\x03\x04", b"PK\x01\x02", b"PK\x07\x08"


class Input:
    """A forward-only byte source with bytes handed back (what a deflate stream read past its end)."""

    def __init__(self, stream):
        self.stream, self.pending = stream, b""

    def chunk(self):
        data, self.pending = self.pending or self.stream.read(1 << 16), b""
        return data

    def exactly(self, count):
        data = self.pending[:count]
        self.pending = self.pending[count:]
        while len(data) < count:
            more = self.stream.read(count - len(data))
            if not more:
                sys.exit(f"truncated archive: {count} bytes wanted, {len(data)} left")
            data += more
        return data


def has_zip64_extra(extra):
    while len(extra) >= 4:
        header_id, size = struct.unpack_from("<HH", extra)
        if header_id == 0x0001:
            return True
        extra = extra[4 + size:]
    return False


def read_stream(sha256):
    source = Input(sys.stdin.buffer)
    while True:
        signature = source.exactly(4)
        if signature == CENTRAL_HEADER:
            return
        if signature != LOCAL_HEADER:
            sys.exit(f"expected a local header, found {signature!r}")
        (_, flags, method, _, _, _, _, _, name_length, extra_length) = struct.unpack("<HHHHHIIIHH", source.exactly(26))
        name = source.exactly(name_length).decode("utf-8" if flags & 0x0800 else "cp437")
        zip64 = has_zip64_extra(source.exactly(extra_length))
        if method != 8 or not flags & 0x0008:
            sys.exit(f"{name}: method {method}, flags {flags:#x}: no end a stream can find")

        inflater, crc, size, compressed = zlib.decompressobj(-15), 0, 0, 0
        digest = hashlib.sha256()
        while not inflater.eof:
            data = source.chunk()
            if not data:
                sys.exit(f"{name}: truncated deflate stream")
            out = inflater.decompress(data)
            compressed += len(data) - len(inflater.unused_data)
            crc, size = zlib.crc32(out, crc), size + len(out)
            if sha256:
                digest.update(out)
        source.pending = inflater.unused_data

        if source.exactly(4) != DATA_DESCRIPTOR:
            sys.exit(f"{name}: no data descriptor after the deflate stream")
        declared_crc, declared_compressed, declared_size = struct.unpack("<IQQ" if zip64 else "<III", source.exactly(20 if zip64 else 12))
        line = f"{name}\t{declared_size}\t{declared_compressed}\t{declared_crc:08x}\t{size}\t{crc:08x}"
        if (declared_size, declared_compressed, declared_crc) != (size, compressed, crc):
            sys.exit(f"{line}: the descriptor does not match the data ({compressed} compressed bytes read)")
        print(line + (f"\t{digest.hexdigest()}" if sha256 else ""), flush=True)


def read_file(path, sha256):
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            crc, size, digest = 0, 0, hashlib.sha256()
            with archive.open(info) as entry:  # checks the CRC-32 at the end
                while data := entry.read(1 << 16):
                    crc, size = zlib.crc32(data, crc), size + len(data)
                    if sha256:
                        digest.update(data)
            line = f"{info.filename}\t{info.file_size}\t{info.compress_size}\t{info.CRC:08x}\t{size}\t{crc:08x}"
            print(line + (f"\t{digest.hexdigest()}" if sha256 else ""), flush=True)


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8")
    sha256 = "--sha256" in sys.argv[1:]
    if sys.argv[-1] == "-":
        read_stream(sha256)
    else:
        read_file(sys.argv[-1], sha256)
