"""Pre-signed Query requests for wrk, and a quick check that they are answered.

A SigV4 signature stays valid for 15 minutes and nothing stops a signed
request from being sent again, so wrk can replay one fixed request: this
module signs it with botocore's SigV4Auth (the signer boto3 and the AWS CLI
use) and writes a wrk Lua script that sends exactly those bytes.
"""

import http.client
import json
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FORM = "application/x-www-form-urlencoded; charset=utf-8"
REGION = "us-east-1"

GET_CALLER_IDENTITY = ("sts", "Action=GetCallerIdentity&Version=2011-06-15")


def get_user(name):
    return ("iam", f"Action=GetUser&Version=2010-05-08&UserName={urllib.parse.quote(name)}")


def sign(endpoint, service, body, key_id, secret):
    """The headers of `POST / body` to `endpoint`, signed now."""
    req = AWSRequest(method="POST", url=endpoint.rstrip("/") + "/", data=body.encode(),
                     headers={"Content-Type": FORM})
    SigV4Auth(Credentials(key_id, secret), service, REGION).add_auth(req)
    headers = dict(req.headers.items())
    headers["Host"] = urllib.parse.urlsplit(endpoint).netloc
    return headers


def lua(body, headers):
    """A wrk script that sends this one request on every call.

    JSON string literals are valid Lua literals for the ASCII text signed
    requests consist of.
    """
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in sorted(headers.items())]
    return "\n".join(lines) + "\n"


def send_once(endpoint, body, headers):
    """Sends the signed request once: (status, body) — to check it before the load."""
    parts = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", "/", body=body.encode(), headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
