#!/usr/bin/env python3
"""Regenerates fuzz/seeds/<target>/ from policies/ and the test tables.

Run from anywhere: python3 fuzz/seed.py. The seeds are committed; libFuzzer
reads them as a second, read-only corpus (see fuzz/README.md).
"""
import base64
import hashlib
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def strings(path, key):
    text = (ROOT / path).read_text()
    return re.findall(key + r': "((?:[^"\\]|\\.)*)"', text)


# policy_parser: every policy file.
for p in sorted((ROOT / "policies").glob("*.policy")):
    put("policy_parser", p.read_text())

# identity: ARN [\n USER_ID [\n ACCOUNT]] from the identity table.
ident = (ROOT / "tests/data/identities.ron").read_text()
for m in re.finditer(r'\(arn: "([^"]*)"([^)]*)', ident):
    arn, rest = m.group(1), m.group(2)
    uid = re.search(r'user_id: "([^"]*)"', rest)
    acct = re.search(r'account: "([^"]*)"', rest)
    line = arn
    if uid:
        line += "\n" + uid.group(1)
        if acct:
            line += "\n" + acct.group(1)
    put("identity", line)

# pattern: PATTERN \n CALLER, pairing each pattern with its table callers.
pats = (ROOT / "tests/data/patterns.ron").read_text()
for m in re.finditer(r'\(pattern: "([^"]*)"(.*?)\)\s*,?\s*(?=\(pattern:|\]|//)', pats, re.S):
    pattern, rest = m.group(1), m.group(2)
    callers = re.findall(r'"(arn:[^"]*)"', rest) or [""]
    for c in callers[:4]:
        put("pattern", pattern + "\n" + c)

# proof: ORG \n PROOF, the Python client's shape with several hosts.
HEADERS = {
    "Content-Length": ["43"],
    "Content-Type": ["application/x-www-form-urlencoded; charset=utf-8"],
    "X-Amz-Date": ["20260101T000000Z"],
    "x-ddog-org-id": ["org"],
    "X-Amz-Security-Token": ["t"],
    "host": ["sts.amazonaws.com"],
    "Authorization": [
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE12/20260101/us-east-1/sts/aws4_request, "
        "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-ddog-org-id, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    ],
}


def b64(s):
    return base64.b64encode(s.encode()).decode()


def proof(headers, url, body="Action=GetCallerIdentity&Version=2011-06-15", method="POST"):
    return "|".join([b64(body), b64(json.dumps(headers)), method, b64(url)])


put("proof", "org\n" + proof(HEADERS, "https://sts.amazonaws.com"))
for host, region in [
    ("sts.us-west-2.amazonaws.com", "us-west-2"),
    ("sts-fips.us-east-1.amazonaws.com", "us-east-1"),
    ("sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ("sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
]:
    h = json.loads(json.dumps(HEADERS))
    h["host"] = [host]
    h["Authorization"] = [h["Authorization"][0].replace("us-east-1", region)]
    put("proof", "org\n" + proof(h, "https://" + host + "/"))
h = {k: v for k, v in HEADERS.items() if k not in ("Content-Length", "X-Amz-Security-Token")}
put("proof", "org\n" + proof(h, "https://sts.amazonaws.com"))
for case in json.loads((ROOT / "tests/data/proofs/malformed.json").read_text())["cases"]:
    raw = case.get("raw")
    if raw is not None and "{" not in raw and not raw.startswith("PAD:"):
        put("proof", "org\n" + raw)

# equivalence: a few byte strings (the input is structured by Arbitrary).
for i in range(8):
    put("equivalence", bytes((i * 37 + j * 11) % 256 for j in range(64 + 32 * i)))
