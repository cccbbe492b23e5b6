"""OIDC providers and sts:AssumeRoleWithWebIdentity, with an independent token maker.

The identity provider is this test's own: an HTTPS server on loopback (Python's
http.server, a self-signed certificate made with `cryptography`) that serves a
discovery document and a JWKS; its JWTs are signed here, by the test, with RSA
and EC keys Portcullis never sees. Portcullis trusts the server through the
provider's registered thumbprint (SHA-1 of the certificate), as IAM does.
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.config
import pytest
from botocore import UNSIGNED
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import ACCOUNT_ID, REGION, aws_cli, client, error_code, free_port, unique


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return n.to_bytes(length, "big")


def jwk_of(kid, key):
    public = key.public_key().public_numbers()
    if isinstance(key, rsa.RSAPrivateKey):
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": b64url(int_bytes(public.n)), "e": b64url(int_bytes(public.e))}
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": b64url(int_bytes(public.x, 32)), "y": b64url(int_bytes(public.y, 32))}


def sign_jwt(claims, key, kid, alg=None):
    alg = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}".encode()
    if alg == "RS256":
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = int_bytes(r, 32) + int_bytes(s, 32)
    return f"{signing_input.decode()}.{b64url(signature)}"


def self_signed_certificate():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


class LoopbackIdP:
    """An OIDC identity provider on loopback: discovery + JWKS over HTTPS."""

    def __init__(self, directory):
        self.keys = {"rsa-1": rsa.generate_private_key(65537, 2048), "ec-1": ec.generate_private_key(ec.SECP256R1())}
        self.published = set(self.keys)
        self.fetches = {"discovery": 0, "jwks": 0}
        tls_key, cert = self_signed_certificate()
        cert_path, key_path = os.path.join(directory, "idp.pem"), os.path.join(directory, "idp.key")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        self.thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    idp.fetches["discovery"] += 1
                    body = {"issuer": idp.issuer, "jwks_uri": f"{idp.issuer}/keys",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                elif self.path == "/keys":
                    idp.fetches["jwks"] += 1
                    body = {"keys": [jwk_of(kid, idp.keys[kid]) for kid in sorted(idp.published)]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.host = f"localhost:{self.port}"
        self.issuer = f"https://{self.host}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token(self, sub="alice", aud="portcullis-app", kid="rsa-1", key=None, lifetime=600, **extra):
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": sub, "aud": aud, "iat": now, "exp": now + lifetime}
        claims.update(extra)
        return sign_jwt(claims, key or self.keys[kid], kid)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def idp():
    with tempfile.TemporaryDirectory() as directory:
        provider = LoopbackIdP(directory)
        yield provider
        provider.stop()


@pytest.fixture(scope="module")
def provider(iam, idp):
    arn = iam.create_open_id_connect_provider(
        Url=idp.issuer, ClientIDList=["portcullis-app"], ThumbprintList=[idp.thumbprint],
    )["OpenIDConnectProviderArn"]
    yield arn
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


@pytest.fixture(scope="module")
def anonymous_sts(server):
    """STS as the SDK's web identity provider calls it: unsigned."""
    return boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                        config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def trust(provider_arn, conditions=None):
    statement = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                 "Action": "sts:AssumeRoleWithWebIdentity"}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(iam, trust_policy, **extra):
    name = unique("web")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **extra)["Role"]
    return role["Arn"], name


def assume(anonymous_sts, role_arn, token, session="web-session", **extra):
    return anonymous_sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=session, WebIdentityToken=token, **extra)


# -- The IAM side: OIDC providers ------------------------------------------------------------


def test_provider_lifecycle_and_errors(iam, server):
    url = f"https://{unique('issuer')}.example.com"
    thumb = "990F4193972F2BECF12DDEDA5237F9C952F20D9E"
    created = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["a", "b"], ThumbprintList=[thumb], Tags=[{"Key": "team", "Value": "blue"}])
    arn = created["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url[len('https://'):]}"
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]

    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == url[len("https://"):]
    assert got["ClientIDList"] == ["a", "b"]
    assert got["ThumbprintList"] == [thumb]
    assert got["CreateDate"].tzinfo is not None
    assert arn in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]

    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="c")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="c")  # idempotent
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="a")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="zzz")  # idempotent
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["b", "c"]

    other = "A" * 40
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[other])
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == [other]
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.update_open_id_connect_provider_thumbprint(
            OpenIDConnectProviderArn=arn, ThumbprintList=[f"{i:040X}" for i in range(6)])
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["Z" * 40])

    # Tags, with pagination.
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    page = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Tags"]) == 1
    rest = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, Marker=page["Marker"])
    assert {t["Key"] for t in page["Tags"] + rest["Tags"]} == {"team", "env"}
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}]

    # The AWS CLI sees the same provider.
    _, listed = aws_cli(server, "iam", "list-open-id-connect-providers")
    assert arn in [p["Arn"] for p in listed["OpenIDConnectProviderList"]]
    _, got_cli = aws_cli(server, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert got_cli["ClientIDList"] == ["b", "c"]

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="x")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)
    # Deleting a provider that does not exist is not an error (the IAM reference).
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


@pytest.mark.parametrize("url", ["http://plain.example.com", "issuer.example.com", "https://a.example.com/?q=1"])
def test_provider_url_must_be_an_https_issuer(iam, url):
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])


def test_at_most_five_thumbprints(iam):
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.create_open_id_connect_provider(
            Url=f"https://{unique('many')}.example.com", ThumbprintList=[f"{i:040x}" for i in range(6)])


def test_provider_operations_need_permission(make_user, provider):
    user = make_user()
    with pytest.raises(user.iam.exceptions.ClientError) as e:
        user.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    assert error_code(e) == "AccessDenied"


# -- sts:AssumeRoleWithWebIdentity -----------------------------------------------------------


def test_web_identity_session_works_and_reports_the_token(server, iam, idp, provider, anonymous_sts):
    role_arn, role_name = make_role(iam, trust(provider))
    out = assume(anonymous_sts, role_arn, idp.token(sub="alice"), session="alice-session")
    assert out["SubjectFromWebIdentityToken"] == "alice"
    assert out["Provider"] == idp.issuer
    assert out["Audience"] == "portcullis-app"
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/alice-session"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice-session")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session_sts = client(server.endpoint, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session_sts.get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"]


def test_ec_keys_sign_too(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    out = assume(anonymous_sts, role_arn, idp.token(kid="ec-1"))
    assert out["SubjectFromWebIdentityToken"] == "alice"


def test_a_token_signed_with_another_key_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    stranger = rsa.generate_private_key(65537, 2048)
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, idp.token(kid="rsa-1", key=stranger))
    # A token whose payload was changed after signing.
    head, _, sig = idp.token(sub="alice").split(".")
    forged = b64url(json.dumps({"iss": idp.issuer, "sub": "admin", "aud": "portcullis-app",
                                "iat": int(time.time()), "exp": int(time.time()) + 600}).encode())
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, f"{head}.{forged}.{sig}")
    # No signature at all.
    unsigned = f"{b64url(json.dumps({'alg': 'none'}).encode())}.{forged}."
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, unsigned)


def test_unknown_key_id_refetches_the_jwks_once(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    assume(anonymous_sts, role_arn, idp.token())  # keys cached
    fetched = idp.fetches["jwks"]
    assume(anonymous_sts, role_arn, idp.token())
    assert idp.fetches["jwks"] == fetched, "a known kid must be served from the cache"
    # The provider rotates in a new key: the first token naming it triggers one refetch.
    idp.keys["rsa-2"] = rsa.generate_private_key(65537, 2048)
    idp.published.add("rsa-2")
    out = assume(anonymous_sts, role_arn, idp.token(kid="rsa-2", sub="rotated"))
    assert out["SubjectFromWebIdentityToken"] == "rotated"
    assert idp.fetches["jwks"] == fetched + 1
    # A kid the provider does not publish even after a refetch is refused.
    ghost = rsa.generate_private_key(65537, 2048)
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, idp.token(kid="ghost", key=ghost))


def test_wrong_audience_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException) as e:
        assume(anonymous_sts, role_arn, idp.token(aud="someone-else"))
    assert "audience" in str(e.value)


def test_expired_token_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    now = int(time.time())
    token = sign_jwt({"iss": idp.issuer, "sub": "alice", "aud": "portcullis-app", "iat": now - 3600,
                      "exp": now - 600}, idp.keys["rsa-1"], "rsa-1")
    with pytest.raises(anonymous_sts.exceptions.ExpiredTokenException):
        assume(anonymous_sts, role_arn, token)


def test_token_not_yet_valid_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, idp.token(nbf=int(time.time()) + 3600))


def test_unknown_provider_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    now = int(time.time())
    token = sign_jwt({"iss": "https://unregistered.example.com", "sub": "a", "aud": "portcullis-app",
                      "iat": now, "exp": now + 600}, idp.keys["rsa-1"], "rsa-1")
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException) as e:
        assume(anonymous_sts, role_arn, token)
    assert "No OpenIDConnect provider found" in str(e.value)
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, "not-a-jwt")


def test_trust_policy_without_the_provider_is_access_denied(iam, idp, provider, anonymous_sts):
    other = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/other.example.com"
    role_arn, _ = make_role(iam, trust(other))
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, idp.token())
    assert error_code(e) == "AccessDenied"
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in str(e.value)
    # A trust policy that trusts the whole account does not let a web identity in.
    account_trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
        "Action": "sts:AssumeRoleWithWebIdentity"}]})
    role_arn, _ = make_role(iam, account_trust)
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, idp.token())
    assert error_code(e) == "AccessDenied"
    # A role that does not exist: the same answer.
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, f"arn:aws:iam::{ACCOUNT_ID}:role/{unique('absent')}", idp.token())
    assert error_code(e) == "AccessDenied"


def test_trust_conditions_on_sub_and_aud(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider, {"StringEquals": {
        f"{idp.host}:sub": "alice", f"{idp.host}:aud": "portcullis-app"}}))
    assert assume(anonymous_sts, role_arn, idp.token(sub="alice"))["SubjectFromWebIdentityToken"] == "alice"
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, idp.token(sub="bob"))
    assert error_code(e) == "AccessDenied"
    # Another registered client of the same provider passes the signature but not the condition.
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="second-app")
    try:
        with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
            assume(anonymous_sts, role_arn, idp.token(sub="alice", aud="second-app"))
        assert error_code(e) == "AccessDenied"
    finally:
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="second-app")
    # aws:FederatedProvider and amr are in the trust policy's context too.
    role_arn, _ = make_role(iam, trust(provider, {
        "StringEquals": {"aws:FederatedProvider": provider},
        "ForAnyValue:StringEquals": {f"{idp.host}:amr": "mfa"}}))
    assume(anonymous_sts, role_arn, idp.token(amr=["pwd", "mfa"]))
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, idp.token(amr=["pwd"]))
    assert error_code(e) == "AccessDenied"


def test_the_session_carries_the_provider_keys(server, iam, idp, provider, anonymous_sts):
    role_arn, role_name = make_role(iam, trust(provider))
    iam.put_role_policy(RoleName=role_name, PolicyName="by-subject", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
            "Condition": {"StringEquals": {f"{idp.host}:sub": "alice", "aws:FederatedProvider": provider}}}]}))

    def session(sub):
        c = assume(anonymous_sts, role_arn, idp.token(sub=sub))["Credentials"]
        return client(server.endpoint, "iam", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    assert session("alice").get_role(RoleName=role_name)["Role"]["Arn"] == role_arn
    with pytest.raises(iam.exceptions.ClientError) as e:
        session("bob").get_role(RoleName=role_name)
    assert error_code(e) == "AccessDenied"


def test_duration_and_session_policy(server, iam, idp, provider, anonymous_sts):
    role_arn, role_name = make_role(iam, trust(provider), MaxSessionDuration=3600)
    iam.put_role_policy(RoleName=role_name, PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}))
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, idp.token(), DurationSeconds=7200)
    assert error_code(e) == "ValidationError"
    out = assume(anonymous_sts, role_arn, idp.token(), DurationSeconds=900, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}))
    lifetime = out["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(seconds=800) < lifetime <= datetime.timedelta(seconds=900)
    c = out["Credentials"]
    narrowed = client(server.endpoint, "iam", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    narrowed.get_role(RoleName=role_name)
    with pytest.raises(iam.exceptions.ClientError) as e:
        narrowed.list_roles()
    assert error_code(e) == "AccessDenied"


def test_unreachable_provider_is_idp_communication_error(iam, idp, anonymous_sts):
    # Registered, but nothing listens on its port.
    port = free_port()
    url = f"https://localhost:{port}"
    arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["portcullis-app"],
                                              ThumbprintList=[idp.thumbprint])["OpenIDConnectProviderArn"]
    try:
        role_arn, _ = make_role(iam, trust(arn))
        now = int(time.time())
        token = sign_jwt({"iss": url, "sub": "a", "aud": "portcullis-app", "iat": now, "exp": now + 600},
                         idp.keys["rsa-1"], "rsa-1")
        with pytest.raises(anonymous_sts.exceptions.IDPCommunicationErrorException):
            assume(anonymous_sts, role_arn, token)
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_a_certificate_without_a_registered_thumbprint_is_not_trusted(iam, idp, anonymous_sts):
    # The same IdP registered under its IP address with a wrong thumbprint:
    # its self-signed certificate chains to no trusted root and matches no thumbprint.
    url = f"https://127.0.0.1:{idp.port}"
    arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["portcullis-app"],
                                              ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    try:
        role_arn, _ = make_role(iam, trust(arn))
        now = int(time.time())
        token = sign_jwt({"iss": url, "sub": "a", "aud": "portcullis-app", "iat": now, "exp": now + 600},
                         idp.keys["rsa-1"], "rsa-1")
        fetched = idp.fetches["discovery"]
        with pytest.raises(anonymous_sts.exceptions.IDPCommunicationErrorException):
            assume(anonymous_sts, role_arn, token)
        assert idp.fetches["discovery"] == fetched, "no HTTP request may pass an untrusted TLS handshake"
        # With the right thumbprint, the same token is accepted.
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[idp.thumbprint])
        assert assume(anonymous_sts, role_arn, token)["SubjectFromWebIdentityToken"] == "a"
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_boto3_default_client_and_the_cli(server, iam, idp, provider):
    """boto3's own client (which does not sign this call) and the AWS CLI."""
    role_arn, role_name = make_role(iam, trust(provider))
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                       aws_access_key_id="AKIAIGNORED000000000", aws_secret_access_key="ignored")
    out = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="boto", WebIdentityToken=idp.token())
    assert out["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role_name}/boto")
    _, cli = aws_cli(server, "sts", "assume-role-with-web-identity", "--role-arn", role_arn,
                     "--role-session-name", "cli", "--web-identity-token", idp.token(sub="carol"))
    assert cli["SubjectFromWebIdentityToken"] == "carol"


def test_sdk_web_identity_credential_provider(server, iam, idp, provider, tmp_path):
    """AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN in a clean environment: boto3's
    default credential chain (and the AWS CLI's) obtain the role session."""
    role_arn, role_name = make_role(iam, trust(provider))
    token_file = tmp_path / "token"
    token_file.write_text(idp.token(sub="workload"))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_ARN": role_arn,
        "AWS_ROLE_SESSION_NAME": "from-token-file",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
    }
    script = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/from-token-file"
    assert proc.stdout.strip() == expected
    proc = subprocess.run(["aws", "sts", "get-caller-identity", "--output", "json"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Arn"] == expected
