# Sourced by the load scripts (needs PY, WORK and ORG): starts moto's STS on a
# free loopback port (log in $WORK/moto.log) and sets MOTO to its URL, creates
# the principals of tests/python/setup_principals.py, exports the assumed
# role's AWS credentials, and writes a proof for ORG to $WORK/proof.
start_sts_and_proof() {
    INITIAL_NO_AUTH_ACTION_COUNT=4 "$PY" tests/python/moto_sts.py 0 2> "$WORK/moto.log" >/dev/null &
    for _ in $(seq 100); do grep -q 'Running on http://127.0.0.1:' "$WORK/moto.log" && break; sleep 0.1; done
    MOTO=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/moto.log" | head -1)
    "$PY" tests/python/setup_principals.py "$MOTO" > "$WORK/principals.json"
    local role='import json,sys;print(json.load(open(sys.argv[1]))["role"][sys.argv[2]])'
    AWS_ACCESS_KEY_ID=$("$PY" -c "$role" "$WORK/principals.json" access_key_id)
    AWS_SECRET_ACCESS_KEY=$("$PY" -c "$role" "$WORK/principals.json" secret_access_key)
    AWS_SESSION_TOKEN=$("$PY" -c "$role" "$WORK/principals.json" session_token)
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    "$PY" tests/python/dd_proof.py "$ORG" > "$WORK/proof"
}
