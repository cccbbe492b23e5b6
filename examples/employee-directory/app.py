"""The Employee Directory app's view of itself.

It holds no keys and names no profile: boto3's default credential chain
finds the instance's role credentials in the instance metadata service
(AWS_EC2_METADATA_SERVICE_ENDPOINT on a Portcullis machine), and refreshes
them when they near expiry. The service endpoint comes from
AWS_ENDPOINT_URL and the region from AWS_DEFAULT_REGION, as for any
program pointed at Portcullis.

It prints who it is (sts get-caller-identity) and what its role may do
(iam simulate-principal-policy): S3 and DynamoDB yes, IAM no.
"""

import boto3

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "iam:CreateUser",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
]


def main():
    session = boto3.Session()
    who = session.client("sts").get_caller_identity()
    print(f"caller:   {who['Arn']}")
    print(f"via:      {session.get_credentials().method}")
    # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION -> the role's ARN (the
    # role sits at the root path).
    role_name = who["Arn"].split(":", 5)[5].split("/")[1]
    role_arn = f"arn:aws:iam::{who['Account']}:role/{role_name}"
    results = session.client("iam").simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=ACTIONS,
    )["EvaluationResults"]
    for result in results:
        verdict = "allowed" if result["EvalDecision"] == "allowed" else "denied"
        print(f"{verdict:8}  {result['EvalActionName']}")


if __name__ == "__main__":
    main()
