#!/usr/bin/env bash
# The README's test command. Installs what a fresh machine lacks for the real-client tests
# (.ci/install-tools.sh: Debian's Chromium for Playwright, aria2 and curl for the download tests, unzip, 7-Zip, bsdtar,
# a JDK and Python for the zip-reader tests, PostgreSQL's server for the suites that also run on PostgreSQL), then runs
# every test. The PostgreSQL suites start one throw-away cluster (a temp folder, a loopback port) and stop it at the end.
# Its last line is "N passed, N failed", taken from the test results.
# With --fast it runs only the fast tier (unit and component tests, [Trait("Tier", "Fast")]: no server, no browser,
# no download client), which needs nothing installed and takes well under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

filter="Category!=Benchmark"
if [ "${1:-}" = "--fast" ]; then
  shift
  filter="Tier=Fast"
else
  .ci/install-tools.sh
fi

results=.ci/out
rm -rf "$results"
set +e
dotnet test Regards.Portal.sln --filter "$filter" --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
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
