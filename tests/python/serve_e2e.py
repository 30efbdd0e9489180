"""End-to-end peer for tests/serve_e2e.rs: the real datadog-api-client against
`arnmap serve`, with moto's STS behind it.

Usage: python serve_e2e.py MOTO_URL SERVER_URL ORG OTHER_ORG API_KEY APP_KEY

Creates IAM principals in moto, creates the persona mapping through the client
with API + application keys, then authenticates with AWSAuth (delegated auth)
and lists mappings with the token; verifies the token with PyJWT against
/.well-known/jwks.json; sends refused proofs. Prints one JSON object of
observations for the Rust test to assert on; exits non-zero on any surprise.
"""

import base64
import http.client
import json
import os
import sys
import urllib.parse
import urllib.request

import jwt
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.aws import AWSAuth
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.cloud_authentication_api import CloudAuthenticationApi
from datadog_api_client.v2.model.aws_cloud_auth_persona_mapping_create_attributes import (
    AWSCloudAuthPersonaMappingCreateAttributes,
)
from datadog_api_client.v2.model.aws_cloud_auth_persona_mapping_create_data import (
    AWSCloudAuthPersonaMappingCreateData,
)
from datadog_api_client.v2.model.aws_cloud_auth_persona_mapping_create_request import (
    AWSCloudAuthPersonaMappingCreateRequest,
)
from datadog_api_client.v2.model.aws_cloud_auth_persona_mapping_type import (
    AWSCloudAuthPersonaMappingType,
)
from setup_principals import ACCOUNT, setup

moto, server, org, other_org, api_key, app_key = sys.argv[1:7]
ROLES = ["terraform-runner", "unmapped-role", "blocked-role"]
UNSTABLE = [
    "list_aws_cloud_auth_persona_mappings",
    "create_aws_cloud_auth_persona_mapping",
    "get_aws_cloud_auth_persona_mapping",
    "delete_aws_cloud_auth_persona_mapping",
]


def setup_principals():
    """5 + len(ROLES) unauthenticated IAM calls, then AssumeRole per role."""
    _key, creds = setup(moto, ROLES)
    return creds


def use(c):
    os.environ["AWS_ACCESS_KEY_ID"] = c["AccessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = c["SecretAccessKey"]
    os.environ["AWS_SESSION_TOKEN"] = c["SessionToken"]


def proof(for_org):
    auth = AWSAuth()
    d = auth.generate_aws_auth_data(for_org, auth.get_credentials())
    return f"{d.body_encoded}|{d.headers_encoded}|{d.method}|{d.url_encoded}"


def exchange(raw):
    """POSTs a proof exactly as the client does; returns (status, body)."""
    u = urllib.parse.urlparse(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", "/api/v2/delegated-token", body="",
                 headers={"Authorization": f"Delegated {raw}", "Content-Type": "application/json",
                          "Content-Length": "0"})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, json.loads(body) if body else None


def key_config():
    c = Configuration(host=server)
    c.api_key["apiKeyAuth"] = api_key
    c.api_key["appKeyAuth"] = app_key
    for op in UNSTABLE:
        c.unstable_operations[op] = True
    return c


def create(api, pattern, account):
    body = AWSCloudAuthPersonaMappingCreateRequest(
        data=AWSCloudAuthPersonaMappingCreateData(
            type=AWSCloudAuthPersonaMappingType.AWS_CLOUD_AUTH_CONFIG,
            attributes=AWSCloudAuthPersonaMappingCreateAttributes(
                account_identifier=account, arn_pattern=pattern)))
    return api.create_aws_cloud_auth_persona_mapping(body=body)


def status_of(fn):
    try:
        fn()
        return 200
    except ApiException as e:
        return e.status


out = {}
creds = setup_principals()

# 1. Mappings through the client with API + application keys.
with ApiClient(key_config()) as client:
    api = CloudAuthenticationApi(client)
    created = create(api, f"arn:aws:iam::{ACCOUNT}:role/terraform-runner", "terraform@example.com")
    out["created_id"] = created.data.id
    out["created_account_uuid"] = created.data.attributes.account_uuid
    out["duplicate_status"] = status_of(
        lambda: create(api, f"arn:aws:iam::{ACCOUNT}:role/terraform-runner", "other@example.com"))
    try:
        create(api, "arn:aws:iam::12345:role/short-account", "x@example.com")
        out["invalid_status"] = 200
    except ApiException as e:
        out["invalid_status"] = e.status
        body = e.body if isinstance(e.body, dict) else json.loads(e.body)
        out["invalid_pointer"] = body["errors"][0]["source"]["pointer"]
    got = api.get_aws_cloud_auth_persona_mapping(persona_mapping_id=created.data.id)
    out["get_pattern"] = got.data.attributes.arn_pattern

# 2. Delegated auth: the client gets a token with a proof, then lists with it.
use(creds["terraform-runner"])
config = Configuration(host=server, delegated_auth_provider=AWSAuth(), delegated_auth_org_uuid=org)
for op in UNSTABLE:
    config.unstable_operations[op] = True
with ApiClient(config) as client:
    listed = CloudAuthenticationApi(client).list_aws_cloud_auth_persona_mappings()
    out["listed_patterns"] = [m.attributes.arn_pattern for m in listed.data]
    token = config._delegated_token_credentials.delegated_token
    # A Bearer token without the write grant cannot create.
    out["bearer_write_status"] = status_of(
        lambda: create(CloudAuthenticationApi(client), f"arn:aws:iam::{ACCOUNT}:role/x", "x@example.com"))

# 3. PyJWT verifies the token against our JWKS.
with urllib.request.urlopen(f"{server}/.well-known/jwks.json", timeout=10) as r:
    jwks = json.load(r)
kid = jwt.get_unverified_header(token)["kid"]
key = next(k for k in jwks["keys"] if k["kid"] == kid)
claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=[key["alg"]],
                    audience="arnmap-api", issuer="arnmap",
                    options={"require": ["exp", "iat", "nbf", "sub", "jti"]})
out["claims"] = claims

# 4. Refusals, each with its status.
status, _ = exchange(proof(org))
out["mapped_status"] = status
use(creds["unmapped-role"])
out["unmapped"] = exchange(proof(org))
use(creds["blocked-role"])
out["denied"] = exchange(proof(org))
use(creds["terraform-runner"])
out["other_org"] = exchange(proof(other_org))
# Tamper: a proof signed for OTHER_ORG whose org header is rewritten to ORG.
body, headers, method, url = proof(other_org).split("|")
h = json.loads(base64.b64decode(headers))
for name in h:
    if name.lower() == "x-ddog-org-id":
        h[name] = [org]
tampered = "|".join([body, base64.b64encode(json.dumps(h).encode()).decode(), method, url])
out["tampered"] = exchange(tampered)
out["garbage"] = exchange("not-a-proof")

print(json.dumps(out))
