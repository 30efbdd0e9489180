"""Hostile traffic beside legitimate traffic, on loopback (issue 11, items 1-3).
Not a test: a measurement. Prints one JSON line per scenario with the
legitimate traffic's success rate and latency percentiles.

  flood:  forged proofs (a valid proof with its signature altered, so STS
          refuses it) for the victim org from 127.0.0.2, while legitimate
          exchanges for the same org come from 127.0.0.1.
  writes: persona-mapping writes that are expensive to lint (user/*ab + 16 '?')
          in one org, while another org makes literal writes.

Usage: python hostile_load.py flood URL PROOF_FILE [--seconds S] [--attackers N]
       python hostile_load.py writes URL HOSTILE_KEYS_JSON OTHER_KEYS_JSON [--writes N]
"""

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import time
import urllib.parse


def forge(proof):
    """The same proof with one hex digit of its signature changed."""
    body, headers, method, url = proof.split("|")
    h = json.loads(base64.b64decode(headers))
    key = next(k for k in h if k.lower() == "authorization")
    auth = h[key][0]
    i = auth.rindex("Signature=") + len("Signature=")
    auth = auth[:i] + ("0" if auth[i] != "0" else "1") + auth[i + 1:]
    h[key] = [auth]
    return "|".join([body, base64.b64encode(json.dumps(h).encode()).decode(), method, url])


def exchange(conn, proof):
    t = time.perf_counter()
    conn.request("POST", "/api/v2/delegated-token", body="",
                 headers={"Authorization": f"Delegated {proof}", "Content-Length": "0"})
    r = conn.getresponse()
    r.read()
    return r.status, time.perf_counter() - t


def attacker(url, proof, seconds, out):
    u = urllib.parse.urlparse(url)
    codes = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10,
                                              source_address=("127.0.0.2", 0))
            status, _ = exchange(conn, proof)
            conn.close()
        except OSError:
            status = "refused"
        codes[status] = codes.get(status, 0) + 1
    out.put(codes)


def summary(name, lat, codes, ok, extra=None):
    lat = sorted(lat)
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None
    total = sum(codes.values())
    line = {"scenario": name, "legitimate": total, "success_rate": round(ok / total, 4) if total else None,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "statuses": codes}
    line.update(extra or {})
    print(json.dumps(line))


def flood(a):
    proof = open(a.proof_file).read().strip()
    forged = forge(proof)
    q = mp.Queue()
    procs = [mp.Process(target=attacker, args=(a.url, forged, a.seconds, q)) for _ in range(a.attackers)]
    for p in procs:
        p.start()
    u = urllib.parse.urlparse(a.url)
    lat, codes = [], {}
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        status, dt = exchange(conn, proof)
        conn.close()
        lat.append(dt)
        codes[status] = codes.get(status, 0) + 1
        time.sleep(0.1)
    hostile = {}
    for _ in procs:
        for k, v in q.get().items():
            hostile[str(k)] = hostile.get(str(k), 0) + v
    for p in procs:
        p.join()
    summary("flood", lat, codes, codes.get(200, 0), {"forged": hostile})


def create(conn, keys, pattern, account):
    body = json.dumps({"data": {"type": "aws_cloud_auth_config", "attributes": {
        "arn_pattern": pattern, "account_identifier": account}}})
    t = time.perf_counter()
    conn.request("POST", "/api/v2/cloud_auth/aws/persona_mapping", body=body, headers={
        "DD-API-KEY": keys["api_key"], "DD-APPLICATION-KEY": keys["app_key"],
        "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status, time.perf_counter() - t


def hostile_writer(url, keys, writes, out):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    lat, codes = [], {}
    for i in range(writes):
        letters = "".join("abcdefghijklmnopqrstuvwxyz"[(i // 26 ** k) % 26] for k in range(2))
        status, dt = create(conn, keys, f"arn:aws:iam::123456789012:user/*{letters}" + "?" * 16,
                            f"h{i}@example.com")
        lat.append(dt)
        codes[status] = codes.get(status, 0) + 1
    out.put((lat, codes))


def writes(a):
    hostile_keys = json.load(open(a.hostile_keys))
    other_keys = json.load(open(a.other_keys))
    q = mp.Queue()
    p = mp.Process(target=hostile_writer, args=(a.url, hostile_keys, a.writes, q))
    p.start()
    u = urllib.parse.urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    lat, codes, i = [], {}, 0
    while p.is_alive() or i < 10:
        status, dt = create(conn, other_keys, f"arn:aws:sts::123456789012:assumed-role/literal-{i}",
                            f"o{i}@example.com")
        lat.append(dt)
        codes[status] = codes.get(status, 0) + 1
        i += 1
        time.sleep(0.05)
    hlat, hcodes = q.get()
    p.join()
    hlat.sort()
    summary("writes", lat, codes, codes.get(201, 0), {
        "hostile_writes": hcodes, "hostile_p50_ms": round(hlat[len(hlat) // 2] * 1000, 2) if hlat else None,
        "hostile_max_ms": round(hlat[-1] * 1000, 2) if hlat else None})


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="scenario", required=True)
    f = sub.add_parser("flood")
    f.add_argument("url")
    f.add_argument("proof_file")
    f.add_argument("--seconds", type=float, default=10)
    f.add_argument("--attackers", type=int, default=4)
    w = sub.add_parser("writes")
    w.add_argument("url")
    w.add_argument("hostile_keys")
    w.add_argument("other_keys")
    w.add_argument("--writes", type=int, default=30)
    a = p.parse_args()
    flood(a) if a.scenario == "flood" else writes(a)


if __name__ == "__main__":
    main()
