"""The Employee Directory web app: people sign in through Portcullis (OIDC).

The app keeps no passwords. "Sign in" sends the browser to Portcullis's
authorization endpoint (authorization code flow with PKCE S256, `state` and
`nonce`); the person signs in there with their IAM user's password (and MFA
code); Portcullis sends the browser back to `/callback` with a code, which the
app exchanges, server to server, for an ID token. The app checks that token
itself — ES256 signature against the issuer's JWKS, `iss`, `aud`, `exp`,
`iat`, `nonce` — and then shows the directory with the person's name.

Python's standard library plus `cryptography` (for the signature), nothing
else. Usage:

    EMPLOYEE_DIRECTORY_CLIENT_SECRET=… python webapp.py \\
        --issuer http://127.0.0.1:4566/oidc --client-id ID [--listen 127.0.0.1:8080]

It prints "Employee Directory web app at URL" once it listens. The redirect URI
registered for the client must be URL/callback (setup.py --webapp URL does so).
"""

import argparse
import base64
import hashlib
import html
import http.cookies
import json
import os
import pathlib
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

HERE = pathlib.Path(__file__).resolve().parent
SESSION_COOKIE = "ed_session"
LOGIN_COOKIE = "ed_login"
SESSION_SECONDS = 8 * 3600
LOGIN_SECONDS = 600
LEEWAY = 60


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class LoginError(Exception):
    """A sign-in that cannot complete; the message is shown to the person."""


class Issuer:
    """The OIDC provider as this relying party sees it: discovery, JWKS, token endpoint."""

    def __init__(self, url, client_id, client_secret):
        self.url = url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.metadata = self._get(f"{self.url}/.well-known/openid-configuration")
        if self.metadata.get("issuer") != self.url:
            raise SystemExit(f"the discovery document names issuer {self.metadata.get('issuer')!r}, not {self.url!r}")
        self._keys = {}
        self._lock = threading.Lock()

    @staticmethod
    def _get(url):
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)

    def authorize_url(self, redirect_uri, state, nonce, challenge):
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
            "scope": "openid profile", "state": state, "nonce": nonce,
            "code_challenge": challenge, "code_challenge_method": "S256"})
        return f"{self.metadata['authorization_endpoint']}?{query}"

    def exchange(self, code, redirect_uri, verifier):
        """The token endpoint, with client_secret_basic; returns the ID token."""
        body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": redirect_uri, "code_verifier": verifier}).encode()
        # RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
        basic = base64.b64encode(
            f"{urllib.parse.quote_plus(self.client_id)}:{urllib.parse.quote_plus(self.client_secret)}".encode()
        ).decode()
        request = urllib.request.Request(self.metadata["token_endpoint"], data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                tokens = json.load(response)
        except urllib.error.HTTPError as e:
            detail = json.loads(e.read() or b"{}")
            raise LoginError(f"The sign-in could not be completed ({detail.get('error', e.code)}).") from e
        if "id_token" not in tokens:
            raise LoginError("The identity provider returned no ID token.")
        return tokens["id_token"]

    def key(self, kid):
        """The JWKS key `kid`; the JWKS is fetched again when it names an unknown one."""
        with self._lock:
            if kid not in self._keys:
                jwks = self._get(self.metadata["jwks_uri"])
                self._keys = {k["kid"]: k for k in jwks.get("keys", []) if "kid" in k}
            return self._keys.get(kid)

    def verify(self, token, nonce):
        """The claims of an ID token whose signature and claims hold."""
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            header = json.loads(b64url_decode(header_b64))
            claims = json.loads(b64url_decode(payload_b64))
            signature = b64url_decode(signature_b64)
        except ValueError as e:
            raise LoginError("The ID token is malformed.") from e
        if header.get("alg") != "ES256" or len(signature) != 64:
            raise LoginError("The ID token is not signed with ES256.")
        jwk = self.key(header.get("kid"))
        if not jwk or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise LoginError("The ID token names no key of the issuer.")
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64url_decode(jwk["x"]), "big"), int.from_bytes(b64url_decode(jwk["y"]), "big"),
            ec.SECP256R1()).public_key()
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            public.verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as e:
            raise LoginError("The ID token's signature does not verify.") from e
        now = time.time()
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        checks = [
            (claims.get("iss") == self.url, "issuer"),
            (self.client_id in audiences, "audience"),
            (isinstance(claims.get("exp"), (int, float)) and claims["exp"] + LEEWAY > now, "expiry"),
            (isinstance(claims.get("iat"), (int, float)) and claims["iat"] - LEEWAY < now, "issue time"),
            (isinstance(claims.get("nonce"), str) and secrets.compare_digest(claims["nonce"], nonce), "nonce"),
            (isinstance(claims.get("sub"), str) and claims["sub"], "subject"),
        ]
        for ok, what in checks:
            if not ok:
                raise LoginError(f"The ID token's {what} is not valid.")
        return claims


class Store:
    """Sessions and logins in progress, in memory (one process)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = {}
        self.logins = {}

    def put(self, table, value, seconds):
        key = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            for k in [k for k, (_, until) in table.items() if until < now]:
                del table[k]
            table[key] = (value, now + seconds)
        return key

    def get(self, table, key, take=False):
        with self.lock:
            entry = table.pop(key, None) if take else table.get(key)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]


def page(title, body, status=200):
    document = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)} · Employee Directory</title>"
        "<style>body{font-family:sans-serif;margin:2rem auto;max-width:48rem;color:#1f2937}"
        "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}"
        "tr.me{background:#eef6ff}.error{color:#b91c1c}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return status, document


def make_handler(issuer, store, public_url, directory):
    redirect_uri = f"{public_url}/callback"
    secure = "; Secure" if public_url.startswith("https://") else ""

    class Handler(BaseHTTPRequestHandler):
        server_version = "EmployeeDirectory/1"

        def log_message(self, *args):
            pass

        def cookies(self):
            jar = http.cookies.SimpleCookie()
            try:
                jar.load(self.headers.get("Cookie", ""))
            except http.cookies.CookieError:
                return {}
            return {k: m.value for k, m in jar.items()}

        def answer(self, status, document=None, location=None, cookies=()):
            body = document.encode() if document is not None else b""
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            for cookie in cookies:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            if document is not None:
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def cookie(self, name, value, max_age):
            return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"

        def session(self):
            key = self.cookies().get(SESSION_COOKIE)
            return store.get(store.sessions, key) if key else None

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/":
                self.home()
            elif url.path == "/login":
                self.login()
            elif url.path == "/callback":
                self.callback(urllib.parse.parse_qs(url.query))
            else:
                self.answer(*page("Not found", "<p>No such page.</p>", 404))

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path == "/logout":
                self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 4096))
                key = self.cookies().get(SESSION_COOKIE)
                if key:
                    store.get(store.sessions, key, take=True)
                self.answer(303, location="/", cookies=[self.cookie(SESSION_COOKIE, "", 0)])
            else:
                self.answer(*page("Not found", "<p>No such page.</p>", 404))

        def home(self):
            person = self.session()
            if person is None:
                self.answer(303, location="/login")
                return
            rows = "".join(
                f"<tr class=\"employee{' me' if e['user'] == person['user'] else ''}\" "
                f"data-user=\"{html.escape(e['user'])}\">"
                f"<td>{html.escape(e['name'])}</td><td>{html.escape(e['title'])}</td>"
                f"<td>{html.escape(e['location'])}</td></tr>"
                for e in directory)
            me = next((e for e in directory if e["user"] == person["user"]), None)
            display = me["name"] if me else person["user"]
            body = (
                f"<p>Signed in as <strong id=\"who\">{html.escape(display)}</strong> "
                f"(<code id=\"user\">{html.escape(person['user'])}</code>, via {html.escape(issuer.url)})</p>"
                "<form method=\"post\" action=\"/logout\"><button id=\"logout\">Sign out</button></form>"
                "<table id=\"directory\"><thead><tr><th>Name</th><th>Title</th><th>Location</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
            self.answer(*page("Employee Directory", body))

        def login(self):
            verifier = b64url(secrets.token_bytes(32))
            challenge = b64url(hashlib.sha256(verifier.encode()).digest())
            nonce = secrets.token_urlsafe(16)
            state = store.put(store.logins, {"verifier": verifier, "nonce": nonce}, LOGIN_SECONDS)
            # The state is also bound to this browser, so that a code sent to
            # someone else's browser cannot sign that browser in.
            self.answer(303, location=issuer.authorize_url(redirect_uri, state, nonce, challenge),
                        cookies=[self.cookie(LOGIN_COOKIE, state, LOGIN_SECONDS)])

        def callback(self, query):
            one = lambda name: (query.get(name) or [None])[0]  # noqa: E731
            state = one("state")
            clear = self.cookie(LOGIN_COOKIE, "", 0)
            bound = self.cookies().get(LOGIN_COOKIE)
            pending = store.get(store.logins, state, take=True) if state else None
            try:
                if pending is None or bound is None or not secrets.compare_digest(bound, state):
                    raise LoginError("This sign-in was not started here, or took too long. Sign in again.")
                if one("error"):
                    raise LoginError(f"The identity provider refused the sign-in: {one('error')}.")
                # RFC 9207: the response names the issuer it comes from.
                if one("iss") is not None and one("iss") != issuer.url:
                    raise LoginError("The response comes from another issuer.")
                if not one("code"):
                    raise LoginError("The response carries no code.")
                token = issuer.exchange(one("code"), redirect_uri, pending["verifier"])
                claims = issuer.verify(token, pending["nonce"])
            except LoginError as e:
                body = f"<p class=\"error\" id=\"error\">{html.escape(str(e))}</p><p><a href=\"/login\">Sign in</a></p>"
                self.answer(*page("Sign-in failed", body, 403), cookies=[clear])
                return
            person = {"user": claims.get("preferred_username") or claims["sub"], "sub": claims["sub"]}
            key = store.put(store.sessions, person, SESSION_SECONDS)
            self.answer(303, location="/", cookies=[clear, self.cookie(SESSION_COOKIE, key, SESSION_SECONDS)])

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", required=True, help="the OIDC issuer, e.g. http://127.0.0.1:4566/oidc")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (port 0: any free one)")
    parser.add_argument("--public-url", help="how browsers reach this app (default: http://LISTEN)")
    parser.add_argument("--directory", default=str(HERE / "employees.json"))
    args = parser.parse_args()
    secret = os.environ.get("EMPLOYEE_DIRECTORY_CLIENT_SECRET")
    if not secret:
        raise SystemExit("EMPLOYEE_DIRECTORY_CLIENT_SECRET is not set")
    host, _, port = args.listen.rpartition(":")
    directory = json.loads(pathlib.Path(args.directory).read_text())
    issuer = Issuer(args.issuer, args.client_id, secret)
    httpd = ThreadingHTTPServer((host, int(port)), None)
    public_url = (args.public_url or f"http://{host}:{httpd.server_address[1]}").rstrip("/")
    httpd.RequestHandlerClass = make_handler(issuer, Store(), public_url, directory)
    print(f"Employee Directory web app at {public_url}/", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
