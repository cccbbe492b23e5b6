"""Sets up the Employee Directory scenario, as the account's root user.

- the role EmployeeWebAppRole, which EC2 may assume (its trust policy), with
  the AWS managed policies AmazonS3FullAccess and AmazonDynamoDBFullAccess,
  and leave to simulate its own permissions (what app.py shows);
- the instance profile EmployeeWebAppProfile holding it;
- the user employee-directory-deployer, who may pass that role to EC2 and
  nothing else: the identity that sets a machine up.

With `--webapp URL` (the web app's address), also what the web app's OIDC
login needs:

- the employees of employees.json as IAM users under the path /employees/,
  each with a login profile (password EMPLOYEE_DIRECTORY_PASSWORD from the
  environment) — Portcullis signs them in, the app keeps no passwords;
- the web app registered as a client of Portcullis's OIDC issuer, with the
  redirect URI URL/callback (the admin API `POST
  /_portcullis/v1/oidc/clients`, SigV4-signed as root).

Usage: python setup.py ENDPOINT [--webapp URL], with the root credentials in
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Prints the deployer's access key
(and, with --webapp, the client id and secret) as JSON on stdout.
"""

import argparse
import json
import os
import pathlib
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

ROLE = "EmployeeWebAppRole"
PROFILE = "EmployeeWebAppProfile"
DEPLOYER = "employee-directory-deployer"

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
}


EMPLOYEES = pathlib.Path(__file__).resolve().parent / "employees.json"


def register_client(endpoint, name, redirect_uris):
    """Registers an OIDC client with the issuer's admin API; returns (client id, secret)."""
    url = f"{endpoint.rstrip('/')}/_portcullis/v1/oidc/clients"
    body = json.dumps({"ClientName": name, "RedirectUris": redirect_uris}).encode()
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    credentials = boto3.Session().get_credentials().get_frozen_credentials()
    SigV4Auth(credentials, "iam", "us-east-1").add_auth(request)
    with urllib.request.urlopen(urllib.request.Request(
            url, data=body, method="POST", headers=dict(request.headers)), timeout=30) as response:
        created = json.load(response)
    return created["Client"]["ClientId"], created["ClientSecret"]


def set_up_webapp_login(iam, endpoint, webapp_url):
    password = os.environ.get("EMPLOYEE_DIRECTORY_PASSWORD")
    if not password:
        raise SystemExit("setup.py --webapp: EMPLOYEE_DIRECTORY_PASSWORD is not set")
    for employee in json.loads(EMPLOYEES.read_text()):
        iam.create_user(UserName=employee["user"], Path="/employees/",
                        Tags=[{"Key": "title", "Value": employee["title"]}])
        iam.create_login_profile(UserName=employee["user"], Password=password, PasswordResetRequired=False)
    client_id, secret = register_client(endpoint, "Employee Directory", [f"{webapp_url.rstrip('/')}/callback"])
    return {"ClientId": client_id, "ClientSecret": secret}


def main(endpoint, webapp_url=None):
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")

    role = iam.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
        Description="The Employee Directory web application on its EC2 instances",
    )["Role"]
    for policy in ("AmazonS3FullAccess", "AmazonDynamoDBFullAccess"):
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    # The app reports what it may do by asking the policy simulator about
    # its own role.
    iam.put_role_policy(
        RoleName=ROLE,
        PolicyName="SimulateOwnPermissions",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": role["Arn"]}],
        }),
    )

    iam.create_instance_profile(InstanceProfileName=PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=PROFILE, RoleName=ROLE)

    iam.create_user(UserName=DEPLOYER)
    iam.put_user_policy(
        UserName=DEPLOYER,
        PolicyName="PassEmployeeWebAppRoleToEC2",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role["Arn"],
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            }],
        }),
    )
    key = iam.create_access_key(UserName=DEPLOYER)["AccessKey"]
    out = {
        "RoleArn": role["Arn"],
        "InstanceProfileName": PROFILE,
        "AccessKeyId": key["AccessKeyId"],
        "SecretAccessKey": key["SecretAccessKey"],
    }
    if webapp_url:
        out.update(set_up_webapp_login(iam, endpoint, webapp_url))
    print(json.dumps(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Sets up the Employee Directory scenario, as root.")
    parser.add_argument("endpoint")
    parser.add_argument("--webapp", metavar="URL", help="also set up the web app's OIDC login for URL")
    args = parser.parse_args()
    main(args.endpoint, args.webapp)
