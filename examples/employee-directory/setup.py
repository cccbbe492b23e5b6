"""Sets up the Employee Directory scenario, as the account's root user.

- the role EmployeeWebAppRole, which EC2 may assume (its trust policy), with
  the AWS managed policies AmazonS3FullAccess and AmazonDynamoDBFullAccess,
  and leave to simulate its own permissions (what app.py shows);
- the instance profile EmployeeWebAppProfile holding it;
- the user employee-directory-deployer, who may pass that role to EC2 and
  nothing else: the identity that sets a machine up.

Usage: python setup.py ENDPOINT, with the root credentials in
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Prints the deployer's access key
as JSON on stdout.
"""

import json
import sys

import boto3

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


def main(endpoint):
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
    print(json.dumps({
        "RoleArn": role["Arn"],
        "InstanceProfileName": PROFILE,
        "AccessKeyId": key["AccessKeyId"],
        "SecretAccessKey": key["SecretAccessKey"],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
