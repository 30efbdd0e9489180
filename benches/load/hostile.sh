#!/usr/bin/env bash
# Hostile traffic beside legitimate traffic (issue 11, items 1-3): moto's STS
# and a release `arnmap serve` on loopback with default limits.
#   1. flood: forged proofs for the victim org from 127.0.0.2 while the org's
#      legitimate caller exchanges from 127.0.0.1;
#   2. writes: lint-expensive persona-mapping writes in one org while another
#      org makes literal writes.
# Prints one JSON line per scenario: the legitimate traffic's success rate,
# p50 and p99, and what the hostile traffic got.
#
#   bash benches/load/hostile.sh [SECONDS] [ATTACKERS] [WRITES]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
ATTACKERS=${2:-4}
WRITES=${3:-30}
VENV=${ARNMAP_VENV:-.venv}
PY="$VENV/bin/python"
ORG=0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10
OTHER=1c6d0c7f-9b4f-4c70-8e40-3a2d8b3c0f21
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet
source benches/load/sts_peer.sh
start_sts_and_proof

mkdir -p "$WORK/policies"
cat > "$WORK/policies/load.policy" <<POLICY
org "$ORG" {
    map "arn:aws:sts::123456789012:assumed-role/terraform-runner" to "terraform@example.com"
}
POLICY
for org in "$ORG" "$OTHER"; do
    ./target/release/arnmap keys create --data-dir "$WORK/data" --org "$org" \
        --permission cloud_auth_config_read cloud_auth_config_write > "$WORK/keys-$org.json"
done
ARNMAP_LOG=warn ./target/release/arnmap serve --listen 127.0.0.1:0 --data-dir "$WORK/data" \
    --policies "$WORK/policies" --sts-override "sts.amazonaws.com=$MOTO" 2> "$WORK/serve.log" &
for _ in $(seq 100); do grep -q 'listening on' "$WORK/serve.log" && break; sleep 0.1; done
SERVER=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1)

"$PY" benches/load/hostile_load.py flood "$SERVER" "$WORK/proof" --seconds "$SECONDS_EACH" --attackers "$ATTACKERS"
"$PY" benches/load/hostile_load.py writes "$SERVER" "$WORK/keys-$ORG.json" "$WORK/keys-$OTHER.json" --writes "$WRITES"
