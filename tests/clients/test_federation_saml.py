"""SAML providers and sts:AssumeRoleWithSAML, with an independent assertion maker.

The identity provider is this test's own: an RSA key and self-signed certificate
made with `cryptography`, metadata written here, and SAML responses whose
assertions are signed by `signxml` (lxml + cryptography, an XML-DSig
implementation independent of the one Portcullis uses).
"""

import base64
import copy
import datetime
import hashlib
import json
import uuid

import boto3
import botocore.config
import pytest
from botocore import UNSIGNED
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner

from conftest import ACCOUNT_ID, REGION, aws_cli, client, error_code, unique

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNIN = "https://signin.aws.amazon.com/saml"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def iso(delta_seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def key_and_certificate(cn):
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return key, cert


class SamlIdP:
    def __init__(self, entity_id):
        self.entity_id = entity_id
        self.key, self.cert = key_and_certificate("test-idp")

    def metadata(self, cert=None):
        der = (cert or self.cert).public_bytes(serialization.Encoding.DER)
        return (
            f'<md:EntityDescriptor xmlns:md="{MD}" entityID="{self.entity_id}">'
            f'<md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data>'
            f"<ds:X509Certificate>{base64.b64encode(der).decode()}</ds:X509Certificate>"
            f"</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="https://idp.example.com/sso"/>'
            f"</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def assertion(self, roles, session_name="alice", subject="alice@example.com", audience=SIGNIN,
                  recipient=SIGNIN, lifetime=300, issuer=None, name_format=PERSISTENT, extra_attributes=()):
        """An unsigned saml:Assertion element."""
        assertion_id = "_" + uuid.uuid4().hex
        a = etree.Element(f"{{{SAML}}}Assertion", nsmap={"saml": SAML},
                          ID=assertion_id, Version="2.0", IssueInstant=iso(0))
        etree.SubElement(a, f"{{{SAML}}}Issuer").text = issuer or self.entity_id
        subj = etree.SubElement(a, f"{{{SAML}}}Subject")
        name_id = etree.SubElement(subj, f"{{{SAML}}}NameID", Format=name_format)
        name_id.text = subject
        conf = etree.SubElement(subj, f"{{{SAML}}}SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
        etree.SubElement(conf, f"{{{SAML}}}SubjectConfirmationData", NotOnOrAfter=iso(lifetime), Recipient=recipient)
        cond = etree.SubElement(a, f"{{{SAML}}}Conditions", NotBefore=iso(-60), NotOnOrAfter=iso(lifetime))
        restriction = etree.SubElement(cond, f"{{{SAML}}}AudienceRestriction")
        etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience
        statement = etree.SubElement(a, f"{{{SAML}}}AttributeStatement")
        attributes = [("https://aws.amazon.com/SAML/Attributes/Role", roles)]
        if session_name is not None:
            attributes.append(("https://aws.amazon.com/SAML/Attributes/RoleSessionName", [session_name]))
        attributes.extend(extra_attributes)
        for name, values in attributes:
            attribute = etree.SubElement(statement, f"{{{SAML}}}Attribute", Name=name)
            for v in values:
                etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = v
        return a

    def sign(self, assertion, key=None, cert=None):
        signer = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                           c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        cert_pem = (cert or self.cert).public_bytes(serialization.Encoding.PEM).decode()
        return signer.sign(assertion, key=key or self.key, cert=cert_pem,
                           reference_uri=assertion.get("ID"), id_attribute="ID")

    @staticmethod
    def response(*children, extensions=()):
        r = etree.Element(f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML},
                          ID="_" + uuid.uuid4().hex, Version="2.0", IssueInstant=iso(0), Destination=SIGNIN)
        if extensions:
            ext = etree.SubElement(r, f"{{{SAMLP}}}Extensions")
            for e in extensions:
                ext.append(e)
        status = etree.SubElement(r, f"{{{SAMLP}}}Status")
        etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
        for c in children:
            r.append(c)
        return r

    @staticmethod
    def encode(element):
        return base64.b64encode(etree.tostring(element)).decode()

    def signed_response(self, roles, **kwargs):
        return self.encode(self.response(self.sign(self.assertion(roles, **kwargs))))


@pytest.fixture(scope="module")
def idp():
    return SamlIdP(f"https://idp-{uuid.uuid4().hex[:8]}.example.com/saml")


@pytest.fixture(scope="module")
def provider(iam, idp):
    name = unique("idp")
    arn = iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata())["SAMLProviderArn"]
    yield arn
    iam.delete_saml_provider(SAMLProviderArn=arn)


@pytest.fixture(scope="module")
def anonymous_sts(server):
    return boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                        config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def trust(provider_arn, conditions=None):
    statement = {"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithSAML"}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(iam, trust_policy, **extra):
    name = unique("saml")
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **extra)["Role"]["Arn"], name


def padded(document):
    """The model wants metadata of at least 1,000 characters: pad with a comment."""
    return document + "<!--" + "x" * 1000 + "-->"


def pair(role_arn, provider_arn):
    return [f"{role_arn},{provider_arn}"]


def assume(anonymous_sts, role_arn, provider_arn, assertion_b64, **extra):
    return anonymous_sts.assume_role_with_saml(RoleArn=role_arn, PrincipalArn=provider_arn,
                                               SAMLAssertion=assertion_b64, **extra)


def code_of(anonymous_sts, role_arn, provider_arn, assertion_b64):
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, provider_arn, assertion_b64)
    return error_code(e)


# -- The IAM side: SAML providers ------------------------------------------------------------


def test_saml_provider_lifecycle_and_errors(server, iam, idp):
    name = unique("okta")
    created = iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata(),
                                       Tags=[{"Key": "team", "Value": "blue"}])
    arn = created["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/{name}"
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == idp.metadata()
    assert got["CreateDate"].tzinfo is not None
    assert got["Tags"] == [{"Key": "team", "Value": "blue"}]
    listed = iam.list_saml_providers()["SAMLProviderList"]
    assert arn in [p["Arn"] for p in listed]

    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata())

    # Update: new metadata (a new signing certificate), checked like the first.
    _, new_cert = key_and_certificate("rotated")
    iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=idp.metadata(cert=new_cert))
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == idp.metadata(cert=new_cert)
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=padded("<not-metadata/>"))

    # Tags with pagination.
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    page = iam.list_saml_provider_tags(SAMLProviderArn=arn, MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Tags"]) == 1
    rest = iam.list_saml_provider_tags(SAMLProviderArn=arn, Marker=page["Marker"])
    assert {t["Key"] for t in page["Tags"] + rest["Tags"]} == {"team", "env"}
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]

    _, cli = aws_cli(server, "iam", "list-saml-providers")
    assert arn in [p["Arn"] for p in cli["SAMLProviderList"]]
    _, cli = aws_cli(server, "iam", "get-saml-provider", "--saml-provider-arn", arn)
    assert "EntityDescriptor" in cli["SAMLMetadataDocument"]

    iam.delete_saml_provider(SAMLProviderArn=arn)
    for call in (lambda: iam.get_saml_provider(SAMLProviderArn=arn),
                 lambda: iam.delete_saml_provider(SAMLProviderArn=arn),
                 lambda: iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=idp.metadata()),
                 lambda: iam.list_saml_provider_tags(SAMLProviderArn=arn)):
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            call()


@pytest.mark.parametrize("document", [
    "not xml",
    "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
    f"<md:EntityDescriptor xmlns:md='{MD}' entityID='x'><md:IDPSSODescriptor "
    f"protocolSupportEnumeration='{SAMLP}'/></md:EntityDescriptor>",
])
def test_metadata_must_name_a_signing_certificate(iam, document):
    with pytest.raises(iam.exceptions.InvalidInputException) as e:
        iam.create_saml_provider(Name=unique("bad"), SAMLMetadataDocument=padded(document))
    assert "Could not parse metadata" in str(e.value)


# -- sts:AssumeRoleWithSAML -----------------------------------------------------------------


def test_saml_session_works_and_reports_the_assertion(server, iam, idp, provider, anonymous_sts):
    role_arn, role_name = make_role(iam, trust(provider))
    out = assume(anonymous_sts, role_arn, provider,
                 idp.signed_response(pair(role_arn, provider), session_name="alice.session"))
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/alice.session"
    assert out["Subject"] == "alice@example.com"
    assert out["SubjectType"] == "persistent"
    assert out["Issuer"] == idp.entity_id
    assert out["Audience"] == SIGNIN
    provider_name = provider.split("/")[-1]
    expected_qualifier = base64.b64encode(
        hashlib.sha1(f"{idp.entity_id}{ACCOUNT_ID}/{provider_name}".encode()).digest()).decode()
    assert out["NameQualifier"] == expected_qualifier
    c = out["Credentials"]
    session = client(server.endpoint, "sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert session.get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"]
    # The role pair may also be written provider first.
    out = assume(anonymous_sts, role_arn, provider,
                 idp.signed_response([f"{provider},{role_arn}"], session_name="reversed"))
    assert out["AssumedRoleUser"]["Arn"].endswith("/reversed")


def test_a_replayed_assertion_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    assertion = idp.signed_response(pair(role_arn, provider))
    assume(anonymous_sts, role_arn, provider, assertion)
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException) as e:
        assume(anonymous_sts, role_arn, provider, assertion)
    assert "already been used" in str(e.value)


def test_a_refused_attempt_does_not_use_up_the_assertion(iam, idp, provider, anonymous_sts):
    role_arn, role_name = make_role(iam, trust(f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/someone-else"))
    assertion = idp.signed_response(pair(role_arn, provider))
    assert code_of(anonymous_sts, role_arn, provider, assertion) == "AccessDenied"
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust(provider))
    assume(anonymous_sts, role_arn, provider, assertion)


def test_an_expired_assertion_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    with pytest.raises(anonymous_sts.exceptions.ExpiredTokenException):
        assume(anonymous_sts, role_arn, provider, idp.signed_response(pair(role_arn, provider), lifetime=-600))


def test_wrong_audience_or_recipient_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider,
               idp.signed_response(pair(role_arn, provider), audience="https://sp.example.com"))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider,
               idp.signed_response(pair(role_arn, provider), recipient="https://sp.example.com/acs"))
    # AWS's other audience value and a regional sign-in recipient are accepted.
    out = assume(anonymous_sts, role_arn, provider, idp.signed_response(
        pair(role_arn, provider), audience="urn:amazon:webservices",
        recipient="https://eu-west-1.signin.aws.amazon.com/saml"))
    assert out["Audience"] == "https://eu-west-1.signin.aws.amazon.com/saml"


def test_unsigned_or_foreign_signatures_are_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    unsigned = idp.encode(idp.response(idp.assertion(pair(role_arn, provider))))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, unsigned)
    # Signed by a key the provider's metadata does not name, with its own
    # certificate inside the signature (which must be ignored).
    other_key, other_cert = key_and_certificate("impostor")
    forged = idp.encode(idp.response(idp.sign(idp.assertion(pair(role_arn, provider)), key=other_key,
                                              cert=other_cert)))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, forged)


def test_a_tampered_assertion_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    signed = idp.sign(idp.assertion(pair(role_arn, provider), subject="alice@example.com"))
    signed.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = "admin@example.com"
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, idp.encode(idp.response(signed)))


def test_wrapped_signatures_are_refused(iam, idp, provider, anonymous_sts):
    """XML signature wrapping: the signed assertion is kept somewhere in the
    document while another one is offered for use."""
    role_arn, _ = make_role(iam, trust(provider))
    original = idp.sign(idp.assertion(pair(role_arn, provider), subject="alice@example.com"))
    evil = idp.assertion(pair(role_arn, provider), subject="admin@example.com", session_name="admin")

    # 1. The evil assertion in the response, the signed one hidden in Extensions.
    wrapped = idp.response(copy.deepcopy(evil), extensions=[copy.deepcopy(original)])
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, idp.encode(wrapped))

    # 2. The signed assertion nested inside the evil one.
    outer = copy.deepcopy(evil)
    outer.find(f"{{{SAML}}}Subject").append(copy.deepcopy(original))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, idp.encode(idp.response(outer)))

    # 3. The evil assertion carries the original's ID and its signature, the
    # original sits next to it: duplicate IDs.
    same_id = copy.deepcopy(evil)
    same_id.set("ID", original.get("ID"))
    same_id.append(copy.deepcopy(original.find(f"{{{DS}}}Signature")))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, idp.encode(idp.response(same_id, copy.deepcopy(original))))

    # 4. The evil assertion alone, carrying the original's signature.
    moved = copy.deepcopy(evil)
    moved.append(copy.deepcopy(original.find(f"{{{DS}}}Signature")))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider, idp.encode(idp.response(moved)))

    # The untouched original still works.
    out = assume(anonymous_sts, role_arn, provider, idp.encode(idp.response(original)))
    assert out["Subject"] == "alice@example.com"


def test_a_comment_cannot_truncate_the_subject(iam, idp, provider, anonymous_sts):
    """The IdP signs `victim@example.com.attacker.test`; a comment inserted after
    signing (invisible to exclusive canonicalisation) must not make the
    subject read as `victim@example.com`."""
    role_arn, _ = make_role(iam, trust(provider, {"StringEquals": {"saml:sub": "victim@example.com"}}))
    signed = idp.sign(idp.assertion(pair(role_arn, provider), subject="victim@example.com.attacker.test"))
    name_id = signed.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    name_id.text = "victim@example.com"
    comment = etree.Comment("x")
    comment.tail = ".attacker.test"
    name_id.append(comment)
    assert code_of(anonymous_sts, role_arn, provider, idp.encode(idp.response(signed))) == "AccessDenied"
    role_arn, _ = make_role(iam, trust(provider))
    signed = idp.sign(idp.assertion(pair(role_arn, provider), subject="victim@example.com.attacker.test"))
    name_id = signed.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    name_id.text = "victim@example.com"
    comment = etree.Comment("x")
    comment.tail = ".attacker.test"
    name_id.append(comment)
    out = assume(anonymous_sts, role_arn, provider, idp.encode(idp.response(signed)))
    assert out["Subject"] == "victim@example.com.attacker.test"


def test_unknown_provider_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    ghost = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/{unique('ghost')}"
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException) as e:
        assume(anonymous_sts, role_arn, ghost, idp.signed_response(pair(role_arn, ghost)))
    assert "provider doesn't exist" in str(e.value)


def test_an_assertion_from_another_issuer_is_refused(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider,
               idp.signed_response(pair(role_arn, provider), issuer="https://other-idp.example.com"))


def test_the_role_attribute_must_offer_the_role(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    other_role, _ = make_role(iam, trust(provider))
    assertion = idp.signed_response(pair(other_role, provider))
    assert code_of(anonymous_sts, role_arn, provider, assertion) == "AccessDenied"


def test_trust_policy_without_the_provider_is_access_denied(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/another"))
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, provider, idp.signed_response(pair(role_arn, provider)))
    assert error_code(e) == "AccessDenied"
    assert "Not authorized to perform sts:AssumeRoleWithSAML" in str(e.value)


def test_trust_conditions_on_saml_keys(iam, idp, provider, anonymous_sts):
    provider_name = provider.split("/")[-1]
    qualifier = base64.b64encode(
        hashlib.sha1(f"{idp.entity_id}{ACCOUNT_ID}/{provider_name}".encode()).digest()).decode()
    role_arn, _ = make_role(iam, trust(provider, {"StringEquals": {
        "saml:sub": "alice@example.com", "saml:aud": SIGNIN, "saml:iss": idp.entity_id,
        "saml:sub_type": "persistent", "saml:namequalifier": qualifier,
        "aws:FederatedProvider": provider}}))
    assume(anonymous_sts, role_arn, provider, idp.signed_response(pair(role_arn, provider)))
    bob = idp.signed_response(pair(role_arn, provider), subject="bob@example.com")
    assert code_of(anonymous_sts, role_arn, provider, bob) == "AccessDenied"
    transient = idp.signed_response(pair(role_arn, provider),
                                    name_format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
    assert code_of(anonymous_sts, role_arn, provider, transient) == "AccessDenied"


def test_role_session_name_is_required_and_checked(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider))
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException) as e:
        assume(anonymous_sts, role_arn, provider, idp.signed_response(pair(role_arn, provider), session_name=None))
    assert "RoleSessionName is required" in str(e.value)
    with pytest.raises(anonymous_sts.exceptions.InvalidIdentityTokenException):
        assume(anonymous_sts, role_arn, provider,
               idp.signed_response(pair(role_arn, provider), session_name="has spaces"))


def test_session_duration_attribute_and_duration_seconds(iam, idp, provider, anonymous_sts):
    role_arn, _ = make_role(iam, trust(provider), MaxSessionDuration=7200)
    duration = ("https://aws.amazon.com/SAML/Attributes/SessionDuration", ["1800"])
    out = assume(anonymous_sts, role_arn, provider,
                 idp.signed_response(pair(role_arn, provider), extra_attributes=[duration]))
    lifetime = out["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(seconds=1700) < lifetime <= datetime.timedelta(seconds=1800)
    with pytest.raises(anonymous_sts.exceptions.ClientError) as e:
        assume(anonymous_sts, role_arn, provider, idp.signed_response(pair(role_arn, provider)),
               DurationSeconds=10800)
    assert error_code(e) == "ValidationError"


def test_boto3_default_client_and_the_cli(server, iam, idp, provider):
    role_arn, role_name = make_role(iam, trust(provider))
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                       aws_access_key_id="AKIAIGNORED000000000", aws_secret_access_key="ignored")
    out = sts.assume_role_with_saml(RoleArn=role_arn, PrincipalArn=provider,
                                    SAMLAssertion=idp.signed_response(pair(role_arn, provider)))
    assert out["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role_name}/alice")
    _, cli = aws_cli(server, "sts", "assume-role-with-saml", "--role-arn", role_arn, "--principal-arn", provider,
                     "--saml-assertion", idp.signed_response(pair(role_arn, provider), session_name="cli-user"))
    assert cli["AssumedRoleUser"]["Arn"].endswith("/cli-user")
