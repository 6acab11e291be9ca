#!/usr/bin/env bash
# Runs every benchmark (P1-P6 of the spec's quality.md) in a Release build on real Kestrel and a real
# SQLite file, then prints one table: scenario, size, figure, Debian's nginx serving the same files (P1, P5) and the
# other reference (Kestrel, a plain read, a target) measured in the same run, both ratios, target.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-tools.sh # curl (P1), nginx (the reference server of P1 and P5), wrk (P5's load generator)
echo "Load before the run: $(uptime)"
mkdir -p .ci/out
export REGARDS_BENCH_OUT="$PWD/.ci/out/bench.tsv"
# The portal's own processes (P1, P5, P7, P8) run the portal as a data centre deploys it: published (Release,
# ReadyToRun). The test command keeps the build next to the tests.
rm -rf .ci/out/portal
dotnet publish Regards.Portal -c Release -o .ci/out/portal --nologo -v quiet
# The benchmarks seed their data folders with the demo (users included) in Development, as next to the tests; the
# processes they measure run in Production.
cp appsettings.Development.json .ci/out/portal/
export REGARDS_PORTAL_DIR="$PWD/.ci/out/portal"
rm -f "$REGARDS_BENCH_OUT"
# BENCH_FILTER narrows the run, e.g. BENCH_FILTER="FullyQualifiedName~P6".
# A failed benchmark still lets the table of the others print; the exit code is the test command's.
status=0
dotnet test Regards.Portal.Tests -c Release --filter "Category=Benchmark${BENCH_FILTER:+&$BENCH_FILTER}" --logger "console;verbosity=minimal" "$@" || status=$?
echo
echo "Benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores; load after the run: $(uptime)"
{ printf 'id\tscenario\tsize\tfigure\tnginx (same run)\tratio\treference (same run)\tratio\ttarget\n'; sort "$REGARDS_BENCH_OUT"; } | column -t -s $'\t'
exit $status
