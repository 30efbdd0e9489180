#!/usr/bin/env bash
# Load measurement of the token exchange (issue 5): moto's STS and a release
# `arnmap serve` on loopback, driven by exchange_load.py from other processes.
# Prints three JSON lines: the HTTP floor (/healthz), STS alone (the proof
# replayed straight to moto), and the full exchange through arnmap.
#
#   bash benches/load/run.sh [SECONDS] [WORKERS]
#
# Needs the test venv (python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
WORKERS=${2:-4}
VENV=${ARNMAP_VENV:-.venv}
PY="$VENV/bin/python"
ORG=0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10
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
ARNMAP_LOG=warn ./target/release/arnmap serve --listen 127.0.0.1:0 --data-dir "$WORK/data" \
    --policies "$WORK/policies" --sts-override "sts.amazonaws.com=$MOTO" \
    --config <(echo "(limits: (exchanges_per_second: 1000000, exchange_burst: 1000000))") \
    2> "$WORK/serve.log" &
for _ in $(seq 100); do grep -q 'listening on' "$WORK/serve.log" && break; sleep 0.1; done
SERVER=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1)

"$PY" benches/load/exchange_load.py "$SERVER" "$WORK/proof" --seconds "$SECONDS_EACH" --workers "$WORKERS" --path /healthz
"$PY" benches/load/exchange_load.py "$SERVER" "$WORK/proof" --seconds "$SECONDS_EACH" --workers "$WORKERS" --direct "$MOTO"
"$PY" benches/load/exchange_load.py "$SERVER" "$WORK/proof" --seconds "$SECONDS_EACH" --workers "$WORKERS"
