"""Creates an IAM user with keys and roles in moto, then assumes the roles.

Usage: python setup_principals.py ENDPOINT
Prints JSON: {"user": {...keys}, "role": {...temporary credentials of terraform-runner}}.
As a script it makes exactly 4 unauthenticated calls (INITIAL_NO_AUTH_ACTION_COUNT=4):
3 for the user, 1 per role; then AssumeRole signed with the new user's keys.
serve_e2e.py imports `setup` for more roles.
"""

import json
import sys

import boto3

ACCOUNT = "123456789012"


def setup(endpoint, roles):
    """Returns (user keys, {role: AssumeRole credentials})."""
    anon = dict(endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **anon)
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    iam.put_user_policy(
        UserName="alice", PolicyName="all",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
         "Action": "sts:AssumeRole"}]})
    for role in roles:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"])
    creds = {}
    for role in roles:
        session = "tf-42" if role == "terraform-runner" else "e2e"
        creds[role] = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                      RoleSessionName=session)["Credentials"]
    return key, creds


if __name__ == "__main__":
    key, creds = setup(sys.argv[1], ["terraform-runner"])
    c = creds["terraform-runner"]
    print(json.dumps({
        "user": {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]},
        "role": {"access_key_id": c["AccessKeyId"], "secret_access_key": c["SecretAccessKey"],
                 "session_token": c["SessionToken"]},
    }))
