"""Prints a proof built by the real Datadog client, exactly as it sends it.

Usage: python dd_proof.py ORG [REGION]   (AWS_* credentials in the environment)
"""

import sys

from datadog_api_client.aws import AWSAuth

org = sys.argv[1]
region = sys.argv[2] if len(sys.argv) > 2 else None
auth = AWSAuth(aws_region=region)
data = auth.generate_aws_auth_data(org, auth.get_credentials())
# The same string AWSAuth.authenticate sends as `Authorization: Delegated <proof>`.
print(f"{data.body_encoded}|{data.headers_encoded}|{data.method}|{data.url_encoded}")
