using System.Globalization;
using System.Text;

namespace Regards.Portal.Downloads;

/// <summary>The links to an order's download script handed to people (My orders, the detail page).</summary>
public static class DownloadScriptLinks
{
    /// <summary>The signed-in owner's link (cookie or bearer); the script itself carries the public token.</summary>
    public static string OfOrder(long orderId) => $"/api/user/orders/{orderId}/script/download";

    /// <summary>The public link, opened by the order's token alone.</summary>
    public static string Public(string baseUrl, string token) => $"{baseUrl}/api/user/orders/script/download?orderToken={Uri.EscapeDataString(token)}";
}

/// <summary>
/// Writes an order's download script (bash + curl, as ASF Vertex and Earthdata Search hand out) file by file to a
/// stream: a fixed head with the functions, one <c>f 'name' 'url' size 'sha256' 'md5'</c> line per file, and a last
/// line that runs it. Every value is single-quoted (a quote inside becomes <c>'\''</c>), so no name can end its word
/// or expand anything; nothing runs before the last line, so a script cut short runs nothing (it says so). Each file
/// line only writes its record to a temporary list, which the last line goes through file by file: the script holds
/// no file list in memory (an order of a million files is a million lines, not a million-entry bash array).
/// </summary>
public sealed class DownloadScriptWriter(Stream output)
{
    public const string ContentType = "text/x-shellscript; charset=utf-8";

    private const int ChunkSize = 64 * 1024;
    private static readonly Encoding Utf8 = new UTF8Encoding(false);
    private readonly StringBuilder chunk = new(ChunkSize + 4096);
    private int files;

    /// <summary>A value as one bash word, expanded to nothing: <c>'it'\''s $HOME'</c> is the text <c>it's $HOME</c>.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>A header line: a comment cannot be left early by a label (a new line would start a command).</summary>
    private static string Comment(string text) => new(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray());

    public Task StartAsync(long orderId, string label, DateTime generated, DateTime? linksExpire, CancellationToken cancellationToken)
    {
        var at = generated.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        chunk.Append("#!/usr/bin/env bash\n")
            .Append(CultureInfo.InvariantCulture, $"# Download script of order {orderId} \"{Comment(label)}\", made by Regards.Portal on {at}.\n")
            .Append(linksExpire is { } expires
                ? $"# Its links carry a public token of this order alone, valid until {expires.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}: keep the script private.\n"
                : "# Its links carry a public token of this order alone: keep the script private.\n")
            .Append(Head);
        return Task.CompletedTask;
    }

    public async Task WriteFileAsync(MetalinkEntry file, CancellationToken cancellationToken)
    {
        files++;
        chunk.Append("f ").Append(Quote(file.Name)).Append(' ').Append(Quote(file.Url)).Append(' ')
            .Append(file.Size.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(Quote(Hex(file.Sha256))).Append(' ').Append(Quote(Hex(file.Md5))).Append('\n');
        if (chunk.Length >= ChunkSize)
        {
            await SendAsync(cancellationToken);
        }
    }

    /// <summary>Only hex digits reach the script (a checksum is compared, never run).</summary>
    private static string Hex(string? value) => value is { Length: > 0 } && value.All(char.IsAsciiHexDigit) ? value.ToLowerInvariant() : "";

    public async Task EndAsync(CancellationToken cancellationToken)
    {
        chunk.Append(CultureInfo.InvariantCulture, $"main {files} \"$@\"\n");
        await SendAsync(cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await output.WriteAsync(Utf8.GetBytes(chunk.ToString()), cancellationToken);
        chunk.Clear();
    }

    /// <summary>Everything but the file lines and the last one. Plain bash and POSIX tools; curl; sha256sum or shasum.</summary>
    private const string Head = """
        #
        # Usage: bash THIS_SCRIPT [FOLDER]      (FOLDER: where the files go; the current folder by default)
        # Needs bash, curl, and sha256sum or shasum (md5sum or md5 for a file whose portal knows only its MD5).
        #
        # Each file is downloaded to "NAME.part" (resumed with curl -C - when the script runs again), checked (its size,
        # then its SHA-256, or its MD5 when the portal knows no SHA-256 for it) and only then given its name. A file
        # already there with its size is kept. Files still being prepared (restored from tape) answer 503 or 429 with
        # Retry-After: the script waits as told and asks again, giving up after REGARDS_MAX_ROUNDS waits in a row
        # (default 60) without a new file. Exit status: 0 when every file is there and checked, 1 otherwise (the summary
        # names the files missing), 3 when this script itself is incomplete.
        set -u
        if [ -z "${BASH_VERSION:-}" ]; then echo "Run this script with bash." >&2; exit 2; fi

        # Nothing runs before the last line calls main: a script cut short in its download says so and does nothing.
        # Each file line (f NAME URL SIZE SHA256 MD5) writes its file's record to a temporary list as bash reads it,
        # and main goes through that list file by file: no file list in memory, whatever the order's size.
        __complete=0 __listed=0
        __list=$(mktemp) || exit 1
        exec 5> "$__list"
        trap 'rm -f -- "$__list"; [ "$__complete" = 1 ] || { echo "This script is incomplete (its download was cut short): download it again." >&2; exit 3; }' EXIT
        # A record: when to try it next (in $SECONDS), name, URL, size, SHA-256, MD5, each ended by a NUL (no name or URL
        # holds one).
        f() { printf '0\0%s\0%s\0%s\0%s\0%s\0' "$1" "$2" "$3" "$4" "$5" >&5; __listed=$((__listed + 1)); }

        # Reads the next record of file descriptor 3 into r_next, name, url, size, sha256, md5.
        next_record() {
          IFS= read -r -d '' -u 3 r_next && IFS= read -r -d '' -u 3 name && IFS= read -r -d '' -u 3 url &&
            IFS= read -r -d '' -u 3 size && IFS= read -r -d '' -u 3 sha256 && IFS= read -r -d '' -u 3 md5
        }

        size_of() { local n; n=$(wc -c < "$1") || return 1; echo $((n)); }
        sha256_of() {
          if command -v sha256sum > /dev/null; then sha256sum < "$1" | cut -d ' ' -f 1
          elif command -v shasum > /dev/null; then shasum -a 256 < "$1" | cut -d ' ' -f 1
          else return 1; fi
        }
        md5_of() {
          if command -v md5sum > /dev/null; then md5sum < "$1" | cut -d ' ' -f 1
          elif command -v md5 > /dev/null; then md5 -q < "$1"
          else return 1; fi
        }

        # One try at the current record's file: sets state (done, failed or todo), why for failed, and for todo when to
        # ask again (next, in $SECONDS).
        fetch() {
          local part="$name.part" code rc have got how
          why=""
          if [ -f "$name" ] && [ "$(size_of "$name")" = "$size" ]; then
            state=done; printf 'kept: %s (already there)\n' "$name"; return
          fi
          have=0
          [ -f "$part" ] && have=$(size_of "$part")
          if [ "$have" -gt "$size" ]; then rm -f -- "$part"; have=0; fi
          if [ "$have" = "$size" ] && [ "$size" -gt 0 ]; then
            code=200; rc=0
          else
            : > "$headers"
            code=$(curl -sS -L -f -C - --connect-timeout 30 -D "$headers" -o "$part" -w '%{http_code}' "$url" 2> "$errors"); rc=$?
          fi
          case "$code" in
            200|206)
              if [ "$rc" != 0 ]; then
                # Cut short: the part is kept and resumed at the next try.
                next=$((SECONDS + 5)); state=todo
                printf 'interrupted: %s (curl %s: %s), resuming in 5 s\n' "$name" "$rc" "$(tr '\n' ' ' < "$errors")"
                return
              fi ;;
            202|429|503)
              # Not ready yet (being restored), or asked too often: come back when Retry-After says.
              [ "$code" = 202 ] && rm -f -- "$part"
              local wait
              wait=$(tr -d '\r' < "$headers" | sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]:[[:space:]]*\([0-9][0-9]*\)[[:space:]]*$/\1/p' | tail -n 1)
              wait=${wait:-30}
              [ "$wait" -gt 3600 ] && wait=3600
              next=$((SECONDS + wait)); state=todo
              printf 'not ready: %s (HTTP %s, asking again in %s s)\n' "$name" "$code" "$wait"
              return ;;
            401|403) state=failed; why="refused (HTTP $code): the link has expired or is not valid, download a new script"; return ;;
            404|410) state=failed; why="not found (HTTP $code): the order or the file is gone"; return ;;
            416) rm -f -- "$part"; next=$SECONDS; state=todo; return ;;
            422) state=failed; why="the portal could not prepare this file (HTTP 422)"; return ;;
            *)
              # The network or the server failed: try again later, as for a file not ready.
              next=$((SECONDS + 30)); state=todo
              printf 'failed for now: %s (HTTP %s, curl %s: %s), trying again in 30 s\n' "$name" "$code" "$rc" "$(tr '\n' ' ' < "$errors")"
              return ;;
          esac
          got=$(size_of "$part")
          if [ "$size" -gt 0 ] && [ "$got" != "$size" ]; then
            rm -f -- "$part"; state=failed; why="size mismatch: $got bytes received, $size expected (the partial file was removed)"; return
          fi
          if [ -n "$sha256" ]; then
            if ! got=$(sha256_of "$part"); then state=failed; why="cannot check its SHA-256: install sha256sum or shasum"; return; fi
            if [ "$got" != "$sha256" ]; then
              rm -f -- "$part"; state=failed; why="CHECKSUM MISMATCH: SHA-256 $sha256 expected, $got received (the file was removed)"; return
            fi
            how="SHA-256 checked"
          elif [ -n "$md5" ]; then
            if ! got=$(md5_of "$part"); then state=failed; why="cannot check its MD5: install md5sum or md5"; return; fi
            if [ "$got" != "$md5" ]; then
              rm -f -- "$part"; state=failed; why="CHECKSUM MISMATCH: MD5 $md5 expected, $got received (the file was removed)"; return
            fi
            how="MD5 checked: the portal knows no SHA-256 for it"
          else
            how="size checked: the portal knows no checksum for it"
          fi
          mv -f -- "$part" "$name" || { state=failed; why="cannot rename the downloaded file"; return; }
          state=done
          printf 'ok: %s (%s)\n' "$name" "$how"
        }

        # Rounds over the list: each round tries the files whose time has come, writes those still to do (with when to
        # ask again) to the next round's list and the failed ones (name, reason) to another, then waits for the soonest.
        main() {
          __complete=1
          exec 5>&-
          local n=$1; shift
          local max_rounds=${REGARDS_MAX_ROUNDS:-60}
          if [ "$__listed" != "$n" ]; then echo "This script lists $__listed files of $n: download it again." >&2; exit 3; fi
          command -v curl > /dev/null || { echo "This script needs curl." >&2; exit 1; }
          mkdir -p -- "${1:-.}" && cd -- "${1:-.}" || exit 1
          headers=$(mktemp) && errors=$(mktemp) && failures=$(mktemp) && todo=$(mktemp) || exit 1
          trap 'rm -f -- "$__list" "$headers" "$errors" "$failures" "$todo" "$todo.next"' EXIT
          local r_next name url size sha256 md5 state next why
          local list=$__list ok=0 idle=0 waiting ok_before soonest
          while :; do
            ok_before=$ok waiting=0 soonest=-1
            exec 3< "$list" 4> "$todo.next"
            while next_record; do
              if [ "$r_next" -le "$SECONDS" ]; then fetch; else state=todo next=$r_next; fi
              case "$state" in
                done) ok=$((ok + 1)) ;;
                failed) printf '%s\0%s\0' "$name" "$why" >> "$failures" ;;
                todo)
                  printf '%s\0%s\0%s\0%s\0%s\0%s\0' "$next" "$name" "$url" "$size" "$sha256" "$md5" >&4
                  waiting=$((waiting + 1))
                  if [ "$soonest" -lt 0 ] || [ "$next" -lt "$soonest" ]; then soonest=$next; fi ;;
              esac
            done
            exec 3<&- 4>&-
            mv -f -- "$todo.next" "$todo"; list=$todo
            rm -f -- "$__list"
            [ "$waiting" = 0 ] && break
            if [ "$ok" -gt "$ok_before" ]; then idle=0; else idle=$((idle + 1)); fi
            if [ "$idle" -gt "$max_rounds" ]; then echo "Giving up: $max_rounds waits in a row without a new file." >&2; break; fi
            if [ "$soonest" -gt "$SECONDS" ]; then
              echo "$waiting file(s) still being prepared: waiting $((soonest - SECONDS)) s"
              sleep $((soonest - SECONDS))
            fi
          done
          if [ "$ok" = "$n" ]; then
            echo "All $n files downloaded and checked in $(pwd)."
            exit 0
          fi
          exec 3< "$failures"
          while IFS= read -r -d '' -u 3 name && IFS= read -r -d '' -u 3 why; do printf 'MISSING: %s: %s\n' "$name" "$why" >&2; done
          exec 3< "$list"
          while next_record; do printf 'MISSING: %s: %s\n' "$name" "still being prepared when the script gave up (run it again later)" >&2; done
          exec 3<&-
          echo "$ok of $n files downloaded and checked; $((n - ok)) missing (listed above)." >&2
          exit 1
        }

        """;
}
