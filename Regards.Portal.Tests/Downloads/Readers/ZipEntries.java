// Lists a zip's entries as Java reads them, one line each:
//   name, size, compressed size and CRC-32 the archive declares, then bytes read and their CRC-32 [and SHA-256].
// "java ZipEntries.java [--sha256] -" reads standard input with ZipInputStream (a stream, as REGARDS' clients do);
// "java ZipEntries.java [--sha256] FILE" opens FILE with ZipFile (random access, through the central directory).
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.*;
import java.util.zip.*;

public class ZipEntries {
    public static void main(String[] args) throws Exception {
        var out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        var sha256 = Arrays.asList(args).contains("--sha256");
        var source = args[args.length - 1];
        if (source.equals("-")) {
            try (var zip = new ZipInputStream(new BufferedInputStream(System.in, 1 << 16))) {
                ZipEntry entry;
                while ((entry = zip.getNextEntry()) != null) {
                    var read = read(zip, sha256);
                    // Known once the entry was read: they come from its data descriptor.
                    out.println(declared(entry) + "\t" + read);
                }
            }
        } else {
            try (var zip = new ZipFile(source)) {
                for (var entries = zip.entries(); entries.hasMoreElements();) {
                    var entry = entries.nextElement();
                    try (var in = zip.getInputStream(entry)) {
                        out.println(declared(entry) + "\t" + read(in, sha256));
                    }
                }
            }
        }
    }

    private static String declared(ZipEntry entry) {
        return entry.getName() + "\t" + entry.getSize() + "\t" + entry.getCompressedSize() + "\t" + String.format("%08x", entry.getCrc());
    }

    private static String read(InputStream in, boolean sha256) throws Exception {
        var crc = new CRC32();
        var digest = MessageDigest.getInstance("SHA-256");
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = in.read(buffer)) > 0) {
            total += read;
            crc.update(buffer, 0, read);
            if (sha256) {
                digest.update(buffer, 0, read);
            }
        }
        var line = total + "\t" + String.format("%08x", crc.getValue());
        return sha256 ? line + "\t" + HexFormat.of().formatHex(digest.digest()) : line;
    }
}
