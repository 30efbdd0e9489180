"""Propagation delay between two replicas on one PostgreSQL store: the time
from a write acknowledged by replica 1 to its effect on replica 2. Not a
test: a measurement.

Usage: python propagation.py URL1 URL2 PROOF_FILE API_KEY APP_KEY [--rounds N]

Each round creates, through replica 1, the mapping of the proof's role
(201), then measures until replica 2 (a) lists it (GET of its id) and (b)
lets the proof's exchange through (200); then deletes it through replica 1
(204) and measures until replica 2's exchange is refused (403). Every
exchange includes one STS call, so (b) is bounded below by an STS round
trip. Prints one JSON line: median and max in ms per kind.
"""

import argparse
import http.client
import json
import statistics
import time
import urllib.parse

MAPPINGS = "/api/v2/cloud_auth/aws/persona_mapping"
PATTERN = "arn:aws:sts::123456789012:assumed-role/terraform-runner/*"


class Client:
    def __init__(self, url, keys):
        u = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.keys = {"DD-API-KEY": keys[0], "DD-APPLICATION-KEY": keys[1]}

    def call(self, method, path, body=None, headers=None):
        h = dict(headers or self.keys)
        data = None if body is None else json.dumps(body)
        if data is not None:
            h["Content-Type"] = "application/json"
        elif method == "POST":
            h["Content-Length"] = "0"
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        text = r.read()
        return r.status, (json.loads(text) if text else None)

    def exchange(self, proof):
        return self.call("POST", "/api/v2/delegated-token",
                         headers={"Authorization": f"Delegated {proof}"})[0]


def until(cond, within=10.0):
    """Seconds until cond() is true (polled without pause)."""
    start = time.perf_counter()
    while not cond():
        if time.perf_counter() - start > within:
            raise SystemExit(f"no effect within {within} s")
    return time.perf_counter() - start


def summary(xs):
    ms = [x * 1000 for x in xs]
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2),
            "max_ms": round(max(ms), 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url1")
    p.add_argument("url2")
    p.add_argument("proof_file")
    p.add_argument("api_key")
    p.add_argument("app_key")
    p.add_argument("--rounds", type=int, default=100)
    a = p.parse_args()
    proof = open(a.proof_file).read().strip()
    keys = (a.api_key, a.app_key)
    one, two = Client(a.url1, keys), Client(a.url2, keys)

    # Start from an org where the proof's role is not mapped.
    s, listed = one.call("GET", MAPPINGS)
    assert s == 200, (s, listed)
    for m in listed["data"]:
        assert one.call("DELETE", f"{MAPPINGS}/{m['id']}")[0] == 204
    until(lambda: two.exchange(proof) == 403)

    listed_after, exchange_after, refused_after = [], [], []
    body = {"data": {"type": "aws_cloud_auth_config", "attributes": {
        "account_identifier": "terraform@example.com", "arn_pattern": PATTERN}}}
    for _ in range(a.rounds):
        s, created = one.call("POST", MAPPINGS, body)
        acked = time.perf_counter()
        assert s == 201, (s, created)
        mid = created["data"]["id"]
        until(lambda: two.call("GET", f"{MAPPINGS}/{mid}")[0] == 200)
        listed_after.append(time.perf_counter() - acked)
        until(lambda: two.exchange(proof) == 200)
        exchange_after.append(time.perf_counter() - acked)
        s, _ = one.call("DELETE", f"{MAPPINGS}/{mid}")
        acked = time.perf_counter()
        assert s == 204, s
        until(lambda: two.exchange(proof) == 403)
        refused_after.append(time.perf_counter() - acked)
    print(json.dumps({
        "propagation": "acknowledged on replica 1 -> effect on replica 2",
        "create_listed_by_2": summary(listed_after),
        "create_exchange_ok_on_2": summary(exchange_after),
        "delete_exchange_refused_on_2": summary(refused_after),
    }))


if __name__ == "__main__":
    main()
