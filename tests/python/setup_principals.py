"""Creates an IAM user with keys and a role, then assumes the role.

Usage: python setup_principals.py ENDPOINT
Prints JSON: {"user": {...keys}, "role": {...temporary credentials}}.
Makes exactly 4 unauthenticated calls (INITIAL_NO_AUTH_ACTION_COUNT=4), then
AssumeRole signed with the new user's keys.
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
anon = dict(endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", **anon)
iam.create_user(UserName="alice")
key = iam.create_access_key(UserName="alice")["AccessKey"]
iam.put_user_policy(
    UserName="alice", PolicyName="all",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
iam.create_role(
    RoleName="terraform-runner",
    AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
         "Action": "sts:AssumeRole"}]}))
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key["AccessKeyId"],
                   aws_secret_access_key=key["SecretAccessKey"])
creds = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/terraform-runner",
                        RoleSessionName="tf-42")["Credentials"]
print(json.dumps({
    "user": {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]},
    "role": {"access_key_id": creds["AccessKeyId"], "secret_access_key": creds["SecretAccessKey"],
             "session_token": creds["SessionToken"]},
}))
