"""Drives POST /api/v2/delegated-token from worker processes on loopback and
prints requests/s and latency percentiles. Not a test: a measurement.

Usage: python exchange_load.py URL[,URL...] PROOF_FILE [--seconds S] [--workers N] [--path P]

With several URLs (replicas), worker i sends to URL i mod n.

Every request sends the same proof (replay protection is off by default, so
each one is verified against STS again). With --path /healthz it measures the
HTTP floor instead. --direct STS_URL replays the proof's STS request straight to
the STS (no arnmap) for the baseline.
"""

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import time
import urllib.parse


def worker(args, seconds, out):
    url, proof, path, direct = args
    if direct:
        body, headers, _method, _url = proof.split("|")
        body = base64.b64decode(body)
        headers = {k: v[0] for k, v in json.loads(base64.b64decode(headers)).items()}
        u = urllib.parse.urlparse(direct)
    else:
        u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    lat, codes = [], {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        if direct:
            conn.request("POST", "/", body=body, headers=headers)
        elif path == "/api/v2/delegated-token":
            conn.request("POST", path, body="", headers={
                "Authorization": f"Delegated {proof}", "Content-Length": "0"})
        else:
            conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        lat.append(time.perf_counter() - t)
        codes[r.status] = codes.get(r.status, 0) + 1
    out.put((lat, codes))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("proof_file")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--path", default="/api/v2/delegated-token")
    p.add_argument("--direct", default=None)
    a = p.parse_args()
    proof = open(a.proof_file).read().strip()
    q = mp.Queue()
    urls = a.url.split(",")
    procs = [mp.Process(target=worker,
                        args=((urls[i % len(urls)], proof, a.path, a.direct), a.seconds, q))
             for i in range(a.workers)]
    start = time.monotonic()
    for pr in procs:
        pr.start()
    lat, codes = [], {}
    for _ in procs:
        l, c = q.get()
        lat += l
        for k, v in c.items():
            codes[k] = codes.get(k, 0) + v
    for pr in procs:
        pr.join()
    elapsed = time.monotonic() - start
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
    target = a.direct or ",".join(u + a.path for u in urls)
    print(json.dumps({
        "target": target, "replicas": len(urls), "workers": a.workers, "requests": len(lat),
        "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2), "statuses": codes,
    }))


if __name__ == "__main__":
    main()
