#!/usr/bin/env bash
# Instructions, L1d misses and misses of a 4 MiB last-level cache per lookup,
# counted by cachegrind (this machine's virtual CPU has no hardware counters
# for `perf stat`; ARNMAP_HUGE_PAGES=0: valgrind does not follow the suite's
# re-execution onto huge pages): N lookups of the mixed caller set minus one lookup, so the
# compile and setup cancel out. Slow: the policy is compiled under valgrind.
#
#   bash benches/cachegrind.sh 1k [N]     # sizes: 1k, 100k, 1M; N defaults to 100000
set -euo pipefail
size=${1:?size: 1k, 100k or 1M} n=${2:-100000}
cd "$(dirname "$0")/.."
bin=$(cargo bench --bench suite --no-run 2>&1 | grep -o 'target/release/deps/suite-[0-9a-f]*' | tail -1)
run() {
    ARNMAP_HUGE_PAGES=0 ARNMAP_BENCH_SIZES=$size ARNMAP_BENCH_PROFILE_LOOKUPS=$1 valgrind --tool=cachegrind \
        --cache-sim=yes --LL=4194304,16,64 --cachegrind-out-file=/dev/null "$bin" --bench 2>&1 |
        tr -d ',' | awk '/I *refs/{i=$NF} /D1  misses/{d=$4} /LLd misses/{l=$4} END{print i, d, l}'
}
read -r i1 d1 l1 < <(run "$n")
read -r i0 d0 l0 < <(run 1)
awk -v n="$n" -v s="$size" -v i="$((i1 - i0))" -v d="$((d1 - d0))" -v l="$((l1 - l0))" \
    'BEGIN { printf "%s: %.0f instructions, %.2f L1d misses, %.2f misses of a 4 MiB cache per lookup\n", s, i/n, d/n, l/n }'
