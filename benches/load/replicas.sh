#!/usr/bin/env bash
# Load measurement of `arnmap serve` replicas on one PostgreSQL (issue 12):
# a private PostgreSQL cluster started here as tests/service/pg_support.rs
# does (initdb as the `postgres` user when run as root, trust auth, a free
# port on 127.0.0.1, fsync=off), moto as STS, release replicas on loopback.
# Prints STS alone (moto, the ceiling), then one JSON line per replica count (1, 2, 3: exchanges/s and p99, the
# workers spread across the replicas), then one line of propagation delays
# (acknowledged write on replica 1 -> its effect on replica 2, over ROUNDS
# creates and ROUNDS deletes).
#
#   bash benches/load/replicas.sh [SECONDS] [WORKERS] [ROUNDS]
#
# Needs the test venv (python3 -m venv .venv && .venv/bin/pip install -r
# tests/python/requirements.txt) and the PostgreSQL server binaries
# (/usr/lib/postgresql/15/bin, or ARNMAP_PG_BIN).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
WORKERS=${2:-6}
ROUNDS=${3:-100}
VENV=${ARNMAP_VENV:-.venv}
PY="$VENV/bin/python"
PGBIN=${ARNMAP_PG_BIN:-/usr/lib/postgresql/15/bin}
ORG=0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10
WORK=$(mktemp -d)
PGROOT=$(mktemp -d)
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PGROOT"
    AS_PG=(runuser -u postgres --)
else
    AS_PG=()
fi
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    "${AS_PG[@]}" "$PGBIN/pg_ctl" stop -D "$PGROOT/data" -m fast -w >/dev/null 2>&1 || true
    rm -rf "$WORK" "$PGROOT"
}
trap cleanup EXIT

cargo build --release --quiet

# PostgreSQL: private, loopback, trust.
"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGROOT/data" --auth=trust --username=postgres \
    --encoding=UTF8 --no-sync >/dev/null
PORT=$("$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"${AS_PG[@]}" "$PGBIN/pg_ctl" start -w -t 60 -D "$PGROOT/data" -l "$PGROOT/server.log" \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGROOT \
        -c fsync=off -c full_page_writes=off -c max_connections=60" >/dev/null
"${AS_PG[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres arnmap
STORE="postgres://postgres@127.0.0.1:$PORT/arnmap"

# moto as STS, and a proof of its role for ORG.
source benches/load/sts_peer.sh
start_sts_and_proof
field() { "$PY" -c "import json,sys;print(json.load(open(sys.argv[1]))$2)" "$1"; }

./target/release/arnmap keys create --store "$STORE" --org "$ORG" \
    --permission cloud_auth_config_read cloud_auth_config_write > "$WORK/keys.json"
API_KEY=$(field "$WORK/keys.json" "['api_key']")
APP_KEY=$(field "$WORK/keys.json" "['app_key']")

# The files map another role; moto's role is mapped through the store.
mkdir -p "$WORK/policies"
cat > "$WORK/policies/load.policy" <<POLICY
org "$ORG" {
    map "arn:aws:sts::123456789012:assumed-role/other-role" to "other@example.com"
}
POLICY
echo "(limits: (exchanges_per_second: 1000000, exchange_burst: 1000000, \
  client_failures_per_second: 1000000, client_failure_burst: 1000000))" > "$WORK/serve.ron"

URLS=()
start_replica() {
    local n=$1
    ARNMAP_LOG=warn ./target/release/arnmap serve --listen 127.0.0.1:0 --data-dir "$WORK/data$n" \
        --store "$STORE" --policies "$WORK/policies" --sts-override "sts.amazonaws.com=$MOTO" \
        --config "$WORK/serve.ron" 2> "$WORK/serve$n.log" &
    for _ in $(seq 100); do grep -qs 'listening on' "$WORK/serve$n.log" && break; sleep 0.1; done
    URLS+=("$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve$n.log" | head -1)")
}

# The ceiling: STS alone (the proof replayed straight to moto).
"$PY" benches/load/exchange_load.py http://unused "$WORK/proof" --seconds "$SECONDS_EACH" \
    --workers "$WORKERS" --direct "$MOTO"
start_replica 1
curl -sf -X POST "${URLS[0]}/api/v2/cloud_auth/aws/persona_mapping" \
    -H "DD-API-KEY: $API_KEY" -H "DD-APPLICATION-KEY: $APP_KEY" -H 'Content-Type: application/json' \
    -d '{"data":{"type":"aws_cloud_auth_config","attributes":{"account_identifier":"terraform@example.com","arn_pattern":"arn:aws:sts::123456789012:assumed-role/terraform-runner/*"}}}' \
    >/dev/null
for n in 1 2 3; do
    [ "$n" -gt 1 ] && start_replica "$n"
    sleep 1 # every replica compiled the store's mapping
    ALL=$(IFS=,; echo "${URLS[*]}")
    "$PY" benches/load/exchange_load.py "$ALL" "$WORK/proof" --seconds "$SECONDS_EACH" --workers "$WORKERS"
done
"$PY" benches/load/propagation.py "${URLS[0]}" "${URLS[1]}" "$WORK/proof" "$API_KEY" "$APP_KEY" --rounds "$ROUNDS"
