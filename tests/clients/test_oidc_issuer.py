"""Portcullis's own OIDC issuer, registered in the account as an OIDC provider.

A person signs in on the portal's form (driven here with plain HTTP, cookie and
CSRF token included, as a browser would), the relying party exchanges the code
for an ID token, and boto3's `assume_role_with_web_identity` turns that token
into a role session — the same path any outside identity provider takes.

The service runs with TLS (a self-signed certificate for 127.0.0.1 made here
with `cryptography`), so its issuer is `https://127.0.0.1:PORT/oidc` and IAM's
rules apply unchanged: the provider URL is https, and Portcullis fetches its
own discovery document and JWKS over HTTPS, trusting the certificate through
the provider's registered thumbprint (SHA-1 of the certificate), exactly as it
trusts any other provider. No loopback exception is involved.
"""

import base64
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import secrets
import ssl
import subprocess
import urllib.parse

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import pytest
from botocore import UNSIGNED
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import ACCOUNT_ID, REGION, ROOT_KEY_ID, ROOT_SECRET, Server, error_code, unique

PASSWORD = "Corr3ct-Horse-Battery!"
REDIRECT = "http://127.0.0.1:9/callback"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_certificate(directory):
    """A self-signed server certificate for 127.0.0.1; returns (cert, key, SHA-1 thumbprint)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "portcullis.pem", directory / "portcullis.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return cert_path, key_path, thumbprint


class TlsService:
    """`portcullis serve` over HTTPS, and what the tests need to talk to it."""

    def __init__(self, directory):
        directory.mkdir(parents=True, exist_ok=True)
        self.cert, key, self.thumbprint = write_certificate(directory)
        self.server = Server(directory / "data", extra_args=("--tls-cert", str(self.cert), "--tls-key", str(key)))
        self.port = self.server.port
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self.server.endpoint = self.endpoint
        self.issuer = f"{self.endpoint}/oidc"
        self.tls = ssl.create_default_context(cafile=str(self.cert))

    def client(self, service, key_id=ROOT_KEY_ID, secret=ROOT_SECRET, token=None):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, verify=str(self.cert),
                            aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    def anonymous_sts(self):
        return boto3.client("sts", endpoint_url=self.endpoint, region_name=REGION, verify=str(self.cert),
                            config=botocore.config.Config(signature_version=UNSIGNED,
                                                          retries={"max_attempts": 1}))

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read().decode()
        finally:
            conn.close()

    def admin(self, method, path, document=None):
        """A call of the OIDC client admin API, SigV4-signed as root for `iam`."""
        body = json.dumps(document).encode() if document is not None else b""
        request = botocore.awsrequest.AWSRequest(
            method=method, url=f"{self.endpoint}{path}", data=body,
            headers={"Content-Type": "application/json"} if document is not None else {})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(ROOT_KEY_ID, ROOT_SECRET), "iam",
                                REGION).add_auth(request)
        status, _, text = self.request(method, path, body=body or None, headers=dict(request.headers))
        return status, json.loads(text) if text else None


class Browser:
    """A person's browser against one origin: follows nothing by itself, keeps one cookie."""

    def __init__(self, service):
        self.service = service
        self.cookie = None

    def send(self, method, url, form=None):
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        status, response_headers, text = self.service.request(method, path, body=body, headers=headers)
        for value in response_headers.get_all("Set-Cookie") or []:
            self.cookie = value.split(";", 1)[0]
        return status, response_headers.get("Location"), text


def csrf_of(page):
    marker = 'name="csrf" value="'
    at = page.index(marker) + len(marker)
    return page[at:page.index('"', at)]


def query_param(url, name):
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name)
    return values[0] if values else None


def pkce_pair():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def sign_in_for_code(service, client_id, user, password=PASSWORD):
    """The authorization code flow from the person's side; returns (code, verifier) or the refusal page."""
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid profile",
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    browser = Browser(service)
    status, location, body = browser.send("GET", f"/oidc/authorize?{query}")
    assert status == 303 and location.startswith("/portal/signin?"), (status, location, body)
    status, _, form = browser.send("GET", location)
    assert status == 200
    status, location, body = browser.send("POST", "/portal/signin", {
        "csrf": csrf_of(form), "account": ACCOUNT_ID, "username": user, "password": password})
    if status != 303:
        return status, body
    status, location, body = browser.send("GET", location)
    assert status == 303 and location.startswith(REDIRECT), (status, location, body)
    assert query_param(location, "state") == state
    assert query_param(location, "iss") == service.issuer
    return query_param(location, "code"), verifier


def id_token_for(service, client, user, password=PASSWORD):
    code, verifier = sign_in_for_code(service, client["ClientId"], user, password)
    assert isinstance(code, str), verifier
    basic = base64.b64encode(f"{client['ClientId']}:{client['Secret']}".encode()).decode()
    status, _, text = service.request("POST", "/oidc/token", body=urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
    assert status == 200, text
    return json.loads(text)["id_token"]


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    s = TlsService(tmp_path_factory.mktemp("oidc-issuer"))
    yield s
    s.server.stop()


@pytest.fixture(scope="module")
def tls_iam(service):
    return service.client("iam")


@pytest.fixture(scope="module")
def rp(service):
    """A confidential client registered through the admin API."""
    status, created = service.admin("POST", "/_portcullis/v1/oidc/clients", {
        "ClientName": "role federation test", "RedirectUris": [REDIRECT]})
    assert status == 200, created
    assert created["Client"]["Issuer"] == service.issuer
    return {"ClientId": created["Client"]["ClientId"], "Secret": created["ClientSecret"]}


@pytest.fixture(scope="module")
def provider(service, tls_iam, rp):
    """Portcullis's issuer registered in its own account, client id = the registered client."""
    arn = tls_iam.create_open_id_connect_provider(
        Url=service.issuer, ClientIDList=[rp["ClientId"]], ThumbprintList=[service.thumbprint],
    )["OpenIDConnectProviderArn"]
    return arn


def person(iam, prefix="person"):
    name = unique(prefix)
    user = iam.create_user(UserName=name)["User"]
    iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=False)
    return user


def web_role(iam, provider_arn, conditions=None):
    statement = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                 "Action": "sts:AssumeRoleWithWebIdentity"}
    if conditions:
        statement["Condition"] = conditions
    name = unique("issuer-role")
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}))["Role"]


def test_the_provider_is_the_issuer_without_its_scheme(service, tls_iam, provider, rp):
    host_path = service.issuer[len("https://"):]
    assert provider == f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host_path}"
    got = tls_iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    assert got["Url"] == host_path
    assert got["ClientIDList"] == [rp["ClientId"]]


def test_a_signed_in_person_becomes_a_role_session(service, tls_iam, provider, rp):
    alice = person(tls_iam, "alice")
    key = f"{service.issuer[len('https://'):]}:sub"
    role = web_role(tls_iam, provider, {"StringEquals": {key: alice["UserId"],
                                                         f"{service.issuer[len('https://'):]}:aud": rp["ClientId"]}})
    token = id_token_for(service, rp, alice["UserName"])
    claims = claims_of(token)
    assert claims["iss"] == service.issuer and claims["sub"] == alice["UserId"] and claims["aud"] == rp["ClientId"]

    answer = service.anonymous_sts().assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="alice-web", WebIdentityToken=token)
    assert answer["SubjectFromWebIdentityToken"] == alice["UserId"]
    assert answer["Audience"] == rp["ClientId"]
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role['RoleName']}/alice-web"
    creds = answer["Credentials"]
    session = service.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    identity = session.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role['RoleName']}/alice-web"
    assert identity["Account"] == ACCOUNT_ID


def test_a_sub_condition_naming_another_user_refuses(service, tls_iam, provider, rp):
    bob, carol = person(tls_iam, "bob"), person(tls_iam, "carol")
    key = f"{service.issuer[len('https://'):]}:sub"
    role = web_role(tls_iam, provider, {"StringEquals": {key: carol["UserId"]}})
    token = id_token_for(service, rp, bob["UserName"])
    with pytest.raises(tls_iam.exceptions.ClientError) as refused:
        service.anonymous_sts().assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="bob-web", WebIdentityToken=token)
    assert error_code(refused) == "AccessDenied"
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in str(refused.value)
    # Carol, whom the condition names, gets in with her own token.
    mine = id_token_for(service, rp, carol["UserName"])
    service.anonymous_sts().assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="carol-web", WebIdentityToken=mine)


def test_an_mfa_condition_refuses_a_password_only_sign_in(service, tls_iam, provider, rp):
    dave = person(tls_iam, "dave")
    key = f"{service.issuer[len('https://'):]}:amr"
    role = web_role(tls_iam, provider, {"ForAnyValue:StringEquals": {key: "mfa"}})
    token = id_token_for(service, rp, dave["UserName"])
    assert claims_of(token)["amr"] == ["pwd"]
    with pytest.raises(tls_iam.exceptions.ClientError) as refused:
        service.anonymous_sts().assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="dave-web", WebIdentityToken=token)
    assert error_code(refused) == "AccessDenied"


def test_a_client_not_listed_on_the_provider_is_the_wrong_audience(service, tls_iam, provider):
    status, created = service.admin("POST", "/_portcullis/v1/oidc/clients", {
        "ClientName": "unlisted", "RedirectUris": [REDIRECT]})
    assert status == 200, created
    other = {"ClientId": created["Client"]["ClientId"], "Secret": created["ClientSecret"]}
    erin = person(tls_iam, "erin")
    role = web_role(tls_iam, provider)
    token = id_token_for(service, other, erin["UserName"])
    with pytest.raises(tls_iam.exceptions.ClientError) as refused:
        service.anonymous_sts().assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="erin-web", WebIdentityToken=token)
    assert error_code(refused) == "InvalidIdentityToken"
    assert "Incorrect token audience" in str(refused.value)


def test_without_the_thumbprint_the_issuer_is_not_trusted(service, tls_iam, provider, rp):
    """The self-signed certificate is trusted only through the registered thumbprint."""
    frank = person(tls_iam, "frank")
    token = id_token_for(service, rp, frank["UserName"])
    # The registered provider's thumbprint is replaced by one that matches nothing…
    provider_arn = provider
    tls_iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=provider_arn,
                                                       ThumbprintList=["0" * 40])
    role = web_role(tls_iam, provider_arn)
    try:
        with pytest.raises(tls_iam.exceptions.ClientError) as refused:
            service.anonymous_sts().assume_role_with_web_identity(
                RoleArn=role["Arn"], RoleSessionName="frank-web", WebIdentityToken=token)
        assert error_code(refused) == "IDPCommunicationError"
    finally:
        tls_iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=provider_arn,
                                                           ThumbprintList=[service.thumbprint])
    # …and with it back, the same token is accepted.
    service.anonymous_sts().assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="frank-web", WebIdentityToken=token)


def test_a_wrong_password_gets_no_code(service, tls_iam, rp):
    grace = person(tls_iam, "grace")
    status, page = sign_in_for_code(service, rp["ClientId"], grace["UserName"], password="not-the-password")
    assert status == 401
    assert "authentication information is incorrect" in page


def test_the_aws_cli_uses_the_role_session(service, tls_iam, provider, rp, tmp_path):
    """The SDK's web identity provider (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN) in the AWS CLI."""
    heidi = person(tls_iam, "heidi")
    role = web_role(tls_iam, provider)
    token_file = tmp_path / "token"
    token_file.write_text(id_token_for(service, rp, heidi["UserName"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN=role["Arn"],
               AWS_ROLE_SESSION_NAME="heidi-cli", AWS_DEFAULT_REGION=REGION, AWS_CA_BUNDLE=str(service.cert),
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_MAX_ATTEMPTS="1",
               AWS_ENDPOINT_URL=service.endpoint)
    proc = subprocess.run(["aws", "sts", "get-caller-identity", "--output", "json"], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role['RoleName']}/heidi-cli"
