#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30) with its
# seeds and dictionary. Exits non-zero on the first crash or failed build.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(policy_parser identity pattern equivalence proof)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build
for t in "${targets[@]}"; do
    case "$t" in
        policy_parser) dict=(-dict=fuzz/dict/policy.dict) ;;
        identity | pattern) dict=(-dict=fuzz/dict/arn.dict) ;;
        proof) dict=(-dict=fuzz/dict/proof.dict) ;;
        *) dict=() ;;
    esac
    mkdir -p "fuzz/corpus/$t"
    echo "== fuzz $t for ${secs}s"
    # -print_final_stats=1 prints executions and coverage at the end.
    log="fuzz/logs/$t.log"
    mkdir -p fuzz/logs
    rc=0
    cargo fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$secs" -max_len=4096 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || rc=$?
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|thread .* panicked|Test unit written)' "$log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log"
        echo "fuzz target $t failed (exit $rc); the input is in fuzz/artifacts/$t/"
        exit 1
    fi
done
