"""The Employee Directory example (examples/employee-directory/run.sh) end to
end: its own server and metadata service on free ports, the setup as root,
and the app with nothing but the metadata endpoint to find credentials."""

import re
import subprocess

import pytest

import conftest
from conftest import ROOT, binary

# run.sh and run-webapp.sh start their own server in a clean environment (env -i)
# with only a data directory: it is always SQLite, so a postgres pass would run
# the very same thing again and claim coverage it did not have.
pytestmark = pytest.mark.skipif(
    conftest.BACKEND == "postgres",
    reason="the example scripts start their own SQLite server (env -i, no --database-url): "
           "nothing here runs on PostgreSQL",
)

EXPECTED_ALLOWED = ["s3:GetObject", "s3:PutObject", "s3:ListBucket",
                    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
EXPECTED_DENIED = ["iam:CreateUser", "iam:AttachRolePolicy", "iam:PutRolePolicy"]


def test_run_sh_shows_the_role_and_what_it_may_do():
    proc = subprocess.run(
        [str(ROOT / "examples" / "employee-directory" / "run.sh"), binary()],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(re.fullmatch(r"caller: +arn:aws:sts::123456789012:assumed-role/EmployeeWebAppRole/i-[0-9a-f]{17}", l)
               for l in lines), proc.stdout
    assert "via:      iam-role" in lines
    verdicts = dict(reversed(l.split()) for l in lines if l.startswith(("allowed ", "denied ")))
    assert verdicts == {**{a: "allowed" for a in EXPECTED_ALLOWED}, **{a: "denied" for a in EXPECTED_DENIED}}
    assert lines[-1] == "Employee Directory: everything matched."


# -- The web app's OIDC login (examples/employee-directory/run-webapp.sh) ---------------------

import html as html_lib  # noqa: E402
import http.client  # noqa: E402
import urllib.parse  # noqa: E402


class CookieBrowser:
    """Plain HTTP as a browser does it: cookies kept per host (not per port, as browsers
    do), redirects followed one by one so that each hop can be looked at."""

    def __init__(self):
        self.cookies = {}

    def request(self, method, url, form=None):
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        jar = self.cookies.setdefault(parts.hostname, {})
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        try:
            conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = value.partition(";")
            name, _, v = pair.strip().partition("=")
            if "max-age=0" in attributes.lower().replace(" ", ""):
                jar.pop(name, None)
            else:
                jar[name] = v
        location = response.headers.get("Location")
        return response.status, urllib.parse.urljoin(url, location) if location else None, text

    def follow(self, method, url, form=None, hops=None):
        """Follows redirects; returns (final status, final URL, body, the URLs passed through)."""
        hops = [] if hops is None else hops
        status, location, text = self.request(method, url, form)
        while status in (302, 303) and location:
            hops.append(location)
            url = location
            status, location, text = self.request("GET", url)
        return status, url, text, hops


def csrf_field(page):
    marker = 'name="csrf" value="'
    at = page.index(marker) + len(marker)
    return html_lib.unescape(page[at:page.index('"', at)])


def start_webapp():
    proc = subprocess.Popen(
        [str(ROOT / "examples" / "employee-directory" / "run-webapp.sh"), binary()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Ready."):
            break
    else:
        raise AssertionError(f"run-webapp.sh did not get ready: {lines} {proc.stderr.read()}")
    info = {}
    for line in lines:
        if m := re.fullmatch(r"Employee Directory web app at (http://\S+)/", line):
            info["app"] = m.group(1)
        if m := re.fullmatch(r"Portcullis at (http://\S+) \(account (\d{12}); OIDC issuer (\S+)\)", line):
            info["portcullis"], info["account"], info["issuer"] = m.groups()
        if m := re.fullmatch(r"Sign in as (\S+) .* with the password (\S+)", line):
            info["user"], info["password"] = m.groups()
    assert set(info) == {"app", "portcullis", "account", "issuer", "user", "password"}, lines
    return proc, info


def sign_in_to_webapp(info, password):
    """Opens the app, is sent to Portcullis, signs in there; returns (browser, final answer, hops)."""
    browser = CookieBrowser()
    status, url, page, hops = browser.follow("GET", f"{info['app']}/")
    # The app sent the browser to its /login, then to Portcullis's authorization
    # endpoint with PKCE, and Portcullis to its sign-in form.
    assert hops[0] == f"{info['app']}/login", hops
    authorize = urllib.parse.urlsplit(hops[1])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{info['issuer']}/authorize", hops
    query = urllib.parse.parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{info['app']}/callback"]
    assert status == 200 and url.startswith(f"{info['portcullis']}/portal/signin?"), (status, url)
    status, url, page, more = browser.follow("POST", f"{info['portcullis']}/portal/signin", {
        "csrf": csrf_field(page), "account": info["account"], "username": info["user"], "password": password})
    return browser, (status, url, page), hops + more


def test_webapp_signs_people_in_through_portcullis():
    proc, info = start_webapp()
    try:
        # A wrong password: Portcullis refuses, the app never hears of it.
        _, (status, url, page), _ = sign_in_to_webapp(info, info["password"] + "-wrong")
        assert status == 401 and url == f"{info['portcullis']}/portal/signin", (status, url)
        assert "authentication information is incorrect" in page

        browser, (status, url, page), hops = sign_in_to_webapp(info, info["password"])
        # Portcullis sent the browser back to the app's callback with a code and
        # its issuer; the app exchanged it and sent the browser home.
        callback = next(h for h in hops if h.startswith(f"{info['app']}/callback?"))
        back = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)
        assert back["iss"] == [info["issuer"]] and back["code"] and back["state"]
        assert status == 200 and url == f"{info['app']}/", (status, url, page)
        assert '<strong id="who">Jane Doe</strong>' in page
        assert '<code id="user">jane.doe</code>' in page
        people = re.findall(r'<tr class="employee( me)?" data-user="([^"]+)">', page)
        assert [u for _, u in people] == ["jane.doe", "ravi.kumar", "ana.silva", "li.wei", "tom.okafor"]
        assert [u for me, u in people if me] == ["jane.doe"]
        # The app's session is its own cookie; Portcullis's is on its side.
        assert "ed_session" in browser.cookies["127.0.0.1"]

        # The callback works once: its state is used up (and bound to the browser
        # that started the sign-in), so a replayed callback signs no one in.
        replay = CookieBrowser()
        status, _, page = replay.request("GET", callback)
        assert status == 403 and "not started here" in page

        # Signing out of the app ends its session; the next visit goes through
        # Portcullis again, which still knows the person and answers at once.
        status, _, _ = browser.request("POST", f"{info['app']}/logout", {})
        assert status == 303
        assert "ed_session" not in browser.cookies["127.0.0.1"]
        status, url, page, hops = browser.follow("GET", f"{info['app']}/")
        assert not any("/portal/signin" in h for h in hops), hops
        assert status == 200 and '<strong id="who">Jane Doe</strong>' in page
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def load_webapp():
    import importlib.util
    path = ROOT / "examples" / "employee-directory" / "webapp.py"
    spec = importlib.util.spec_from_file_location("employee_webapp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_webapp_checks_the_id_token_itself():
    """The app's own ID token checks, against tokens made here with keys of the test."""
    import base64
    import json
    import time

    import pytest
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    webapp = load_webapp()
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    good_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    numbers = good_key.public_key().public_numbers()
    issuer = object.__new__(webapp.Issuer)
    issuer.url, issuer.client_id = "http://127.0.0.1:1/oidc", "directory"
    issuer.key = lambda kid: {"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64(numbers.x.to_bytes(32, "big")),
                              "y": b64(numbers.y.to_bytes(32, "big"))} if kid == "k1" else None

    def token(key=good_key, kid="k1", **changes):
        now = int(time.time())
        claims = {"iss": issuer.url, "aud": "directory", "sub": "AIDAEXAMPLE", "exp": now + 300, "iat": now,
                  "nonce": "n-1", "preferred_username": "jane.doe", **changes}
        signing_input = f"{b64(json.dumps({'alg': 'ES256', 'kid': kid}).encode())}.{b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    assert issuer.verify(token(), "n-1")["preferred_username"] == "jane.doe"
    refusals = {
        "signature does not verify": token(key=other_key),
        "names no key": token(kid="k2"),
        "nonce": token(nonce="n-2"),
        "audience": token(aud="someone-else"),
        "issuer": token(iss="http://127.0.0.1:2/oidc"),
        "expiry": token(exp=int(time.time()) - 120),
    }
    for why, bad in refusals.items():
        with pytest.raises(webapp.LoginError, match=why):
            issuer.verify(bad, "n-1")
