#!/usr/bin/env bash
# Compares two `arnmap` binaries' decisions, byte for byte: `arnmap check` on
# every example policy (its `test` callers) and on the bench rule sets (the
# suite's callers, written by ARNMAP_BENCH_DUMP). Exits 1 on any difference.
#
#   bash benches/decisions.sh OLD_ARNMAP NEW_ARNMAP
set -euo pipefail
old=$1 new=$2
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ARNMAP_BENCH_DUMP="$work" cargo bench --bench suite --no-default-features -q 2>/dev/null
differ=0
compare() { # name policy org callers
    local name=$1 policy=$2 org=$3 callers=$4
    "$old" check --policy "$policy" --org "$org" --stdin <"$callers" >"$work/old.out" 2>&1 || true
    "$new" check --policy "$policy" --org "$org" --stdin <"$callers" >"$work/new.out" 2>&1 || true
    if cmp -s "$work/old.out" "$work/new.out"; then
        echo "same  $name ($(wc -l <"$work/new.out") decisions)"
    else
        echo "DIFFER $name"; diff "$work/old.out" "$work/new.out" | head -5; differ=1
    fi
}
for set in "$work"/*.policy; do
    name=$(basename "$set" .policy)
    compare "$name" "$set" "$(cat "$work/$name.org")" "$work/$name.callers"
done
# The example policies: every org, every caller their tests name.
for policy in policies/*.policy; do
    grep -o 'test "[^"]*"\( user_id "[^"]*"\)\?' "$policy" |
        sed -E 's/^test "([^"]*)"( user_id "([^"]*)")?$/\1\t\3/; s/\t$//' >"$work/callers" || true
    for org in $(grep -o '^org "[^"]*"' "$policy" | cut -d'"' -f2); do
        compare "$(basename "$policy") $org" "$policy" "$org" "$work/callers"
    done
done
exit $differ
