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
INITIAL_NO_AUTH_ACTION_COUNT=4 "$PY" tests/python/moto_sts.py 0 2> "$WORK/moto.log" >/dev/null &
for _ in $(seq 100); do grep -q 'Running on http://127.0.0.1:' "$WORK/moto.log" && break; sleep 0.1; done
MOTO=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/moto.log" | head -1)
"$PY" tests/python/setup_principals.py "$MOTO" > "$WORK/principals.json"
export AWS_ACCESS_KEY_ID=$("$PY" -c "import json;print(json.load(open('$WORK/principals.json'))['role']['access_key_id'])")
export AWS_SECRET_ACCESS_KEY=$("$PY" -c "import json;print(json.load(open('$WORK/principals.json'))['role']['secret_access_key'])")
export AWS_SESSION_TOKEN=$("$PY" -c "import json;print(json.load(open('$WORK/principals.json'))['role']['session_token'])")
"$PY" tests/python/dd_proof.py "$ORG" > "$WORK/proof"

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
