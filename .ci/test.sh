#!/usr/bin/env bash
# The README's test command. Installs what a fresh machine lacks for the real-client tests
# (.ci/install-tools.sh: Debian's Chromium for Playwright, aria2 and curl for the download tests, unzip, 7-Zip, bsdtar,
# a JDK and Python for the zip-reader tests), then runs every test.
# Its last line is "N passed, N failed", taken from the test results.
set -euo pipefail
cd "$(dirname "$0")/.."

.ci/install-tools.sh

results=.ci/out
rm -rf "$results"
set +e
dotnet test Regards.Portal.sln --filter "Category!=Benchmark" --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e

counters=$(grep -ho '<Counters [^>]*>' "$results"/*.trx 2>/dev/null | head -n 1 || true)
passed=$(sed -nE 's/.* passed="([0-9]+)".*/\1/p' <<<"$counters")
failed=$(sed -nE 's/.* failed="([0-9]+)".*/\1/p' <<<"$counters")
if [ -z "$passed" ]; then
  echo "No test results were written (build failure?)."
  echo "0 passed, 1 failed"
  exit 1
fi
echo "${passed} passed, ${failed} failed"
exit $status
