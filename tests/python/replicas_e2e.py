"""Peer for serve_replicas::three_replicas_driven_by_the_datadog_client: the
real datadog-api-client against three `arnmap serve` replicas on one
PostgreSQL store, with moto's STS behind them.

Usage: python replicas_e2e.py MOTO_URL REPLICA1 REPLICA2 REPLICA3 ORG API_KEY APP_KEY

Creates IAM principals in moto; creates the persona mapping through replica 1
with API + application keys; then polls replica 2 with delegated auth
(AWSAuth) until its list shows the mapping (the delay from the acknowledged
create is measured); takes the Bearer token replica 2 issued and lists
through replicas 1 and 3 with it; verifies it with PyJWT against replica 1's
and replica 3's JWKS. Prints one JSON object of observations for the Rust
test to assert on; exits non-zero on any surprise.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

import jwt
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.aws import AWSAuth
from datadog_api_client.exceptions import ApiException, ApiValueError
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

moto, one, two, three, org, api_key, app_key = sys.argv[1:8]
PATTERN = f"arn:aws:iam::{ACCOUNT}:role/terraform-runner"
MAPPINGS = "/api/v2/cloud_auth/aws/persona_mapping"
WITHIN = 1.0
UNSTABLE = [
    "list_aws_cloud_auth_persona_mappings",
    "create_aws_cloud_auth_persona_mapping",
]


def unstable(c):
    for op in UNSTABLE:
        c.unstable_operations[op] = True
    return c


def bearer_list(server, token):
    """GET the persona-mapping list with `Authorization: Bearer`; (status, ids)."""
    req = urllib.request.Request(f"{server}{MAPPINGS}",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, [m["id"] for m in json.load(r)["data"]]
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def verify(server, token):
    """PyJWT against SERVER's JWKS; (claims, kids listed there)."""
    with urllib.request.urlopen(f"{server}/.well-known/jwks.json", timeout=10) as r:
        jwks = json.load(r)
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=[key["alg"]],
                        audience="arnmap-api", issuer="arnmap",
                        options={"require": ["exp", "iat", "nbf", "sub", "jti"]})
    return claims, sorted(k["kid"] for k in jwks["keys"])


out = {}
_key, creds = setup(moto, ["terraform-runner"])

# 1. Replica 1: the mapping, through the client with API + application keys.
c = unstable(Configuration(host=one))
c.api_key["apiKeyAuth"] = api_key
c.api_key["appKeyAuth"] = app_key
with ApiClient(c) as client:
    created = CloudAuthenticationApi(client).create_aws_cloud_auth_persona_mapping(
        body=AWSCloudAuthPersonaMappingCreateRequest(
            data=AWSCloudAuthPersonaMappingCreateData(
                type=AWSCloudAuthPersonaMappingType.AWS_CLOUD_AUTH_CONFIG,
                attributes=AWSCloudAuthPersonaMappingCreateAttributes(
                    account_identifier="terraform@example.com", arn_pattern=PATTERN))))
acknowledged = time.monotonic()
out["created_id"] = created.data.id

# 2. Replica 2: delegated auth (AWSAuth, the role's credentials from the
# environment) and a list, polled until the mapping is in effect there.
c = creds["terraform-runner"]
os.environ["AWS_ACCESS_KEY_ID"] = c["AccessKeyId"]
os.environ["AWS_SECRET_ACCESS_KEY"] = c["SecretAccessKey"]
os.environ["AWS_SESSION_TOKEN"] = c["SessionToken"]
config = unstable(Configuration(host=two, delegated_auth_provider=AWSAuth(),
                                delegated_auth_org_uuid=org))
attempts, refusals, listed = 0, [], None
with ApiClient(config) as client:
    api = CloudAuthenticationApi(client)
    while True:
        attempts += 1
        try:
            listed = api.list_aws_cloud_auth_persona_mappings()
            if any(m.id == created.data.id for m in listed.data):
                break
        except (ApiValueError, ApiException) as e:
            refusals.append(str(e).splitlines()[0][:120])
        if time.monotonic() - acknowledged > WITHIN:
            break
        time.sleep(0.01)
out["replica2_delay_ms"] = round((time.monotonic() - acknowledged) * 1000, 1)
out["replica2_attempts"] = attempts
out["replica2_refusals"] = refusals
out["replica2_listed"] = (
    [[m.id, m.attributes.arn_pattern] for m in listed.data] if listed is not None else None)
creds2 = config._delegated_token_credentials
if creds2 is None:
    print(json.dumps(out))
    sys.exit("replica 2 issued no token")
token = creds2.delegated_token

# 3. Replica 2's token on replica 1's and replica 3's API.
for name, server in [("replica1", one), ("replica3", three)]:
    status, ids = bearer_list(server, token)
    out[f"{name}_bearer_status"] = status
    out[f"{name}_bearer_ids"] = ids

# 4. PyJWT verifies it against replica 1's and replica 3's JWKS.
out["token_kid"] = jwt.get_unverified_header(token)["kid"]
for name, server in [("replica1", one), ("replica3", three)]:
    claims, kids = verify(server, token)
    out[f"{name}_claims"] = claims
    out[f"{name}_jwks_kids"] = kids

print(json.dumps(out))
