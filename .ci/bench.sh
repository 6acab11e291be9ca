#!/usr/bin/env bash
# Runs every benchmark (P1-P6 of the spec's quality.md) in a Release build on real Kestrel and a real
# SQLite file, then prints one table: scenario, size, figure, reference measured in the same run, ratio, target.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-tools.sh # P1 downloads with curl
mkdir -p .ci/out
export REGARDS_BENCH_OUT="$PWD/.ci/out/bench.tsv"
rm -f "$REGARDS_BENCH_OUT"
# BENCH_FILTER narrows the run, e.g. BENCH_FILTER="FullyQualifiedName~P6".
dotnet test Regards.Portal.Tests -c Release --filter "Category=Benchmark${BENCH_FILTER:+&$BENCH_FILTER}" --logger "console;verbosity=minimal" "$@"
echo
echo "Benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores"
{ printf 'id\tscenario\tsize\tfigure\treference\tratio\ttarget\n'; sort "$REGARDS_BENCH_OUT"; } | column -t -s $'\t'
