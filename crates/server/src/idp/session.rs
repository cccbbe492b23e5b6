//! The browser session: one cookie whose value is the session sealed under
//! the master key (AES-256-GCM, bound to [`SEAL_CONTEXT`]), so the service
//! keeps no session table and any node opens it. The cookie is HttpOnly,
//! SameSite=Lax and Secure when the public URL is https.
//!
//! A session moves through stages: anonymous (it only holds the CSRF token
//! of the sign-in form), password verified and waiting for the MFA code,
//! waiting for a new password, and signed in. Each stage has its own
//! lifetime; a signed-in session also ends when the user's password changes
//! or the user or its login profile is deleted (checked on every use).
//!
//! Signing out clears the cookie in the browser; a copied cookie stays
//! valid until it expires ([`SIGNED_IN_SECONDS`]) or the password changes.

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, header};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::Idp;

pub const COOKIE: &str = "portcullis_portal";
const SEAL_CONTEXT: &str = "portcullis-portal-session:v1";
/// How long a signed-in session lasts.
pub const SIGNED_IN_SECONDS: i64 = 8 * 3600;
/// How long the MFA and new-password steps may take.
pub const PENDING_SECONDS: i64 = 600;
/// How long the CSRF token of an anonymous visitor lasts.
pub const ANONYMOUS_SECONDS: i64 = 3600;

/// Who has proven what so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub account: String,
    pub user_id: String,
    pub user_name: String,
    pub user_path: String,
    /// When the password was verified (unix seconds): OIDC's `auth_time`.
    pub auth_time: i64,
    /// Whether an MFA code was verified too.
    pub mfa: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    Anonymous,
    /// The password verified; the user has an MFA device.
    Mfa {
        person: Person,
        /// A new password is due once the code verifies.
        must_change: bool,
    },
    /// Password (and code) verified; the password must be changed first.
    NewPassword(Person),
    SignedIn {
        person: Person,
        /// The login profile's `password_changed` at sign-in (unix
        /// seconds): a later change ends the session.
        password_changed: i64,
    },
}

/// The sealed content of the cookie.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserSession {
    pub csrf: String,
    pub stage: Stage,
    /// Where to continue once signed in: a path of this service (see
    /// [`safe_continue`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The account to prefill on the sign-in form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_hint: Option<String>,
    /// Unix seconds.
    pub expires: i64,
}

impl std::fmt::Debug for BrowserSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSession")
            .field("csrf", &"<redacted>")
            .field("stage", &self.stage)
            .field("next", &self.next)
            .field("expires", &self.expires)
            .finish()
    }
}

impl BrowserSession {
    /// A fresh anonymous session with a new CSRF token.
    pub fn anonymous(now: i64) -> Option<Self> {
        Some(BrowserSession {
            csrf: super::random_token::<24>()?,
            stage: Stage::Anonymous,
            next: None,
            account_hint: None,
            expires: now + ANONYMOUS_SECONDS,
        })
    }

    /// The same visitor at a new stage: a new CSRF token (so a token seen
    /// before sign-in is useless after it) and the stage's lifetime.
    pub fn advance(&self, stage: Stage, now: i64) -> Option<Self> {
        let lifetime = match stage {
            Stage::Anonymous => ANONYMOUS_SECONDS,
            Stage::Mfa { .. } | Stage::NewPassword(_) => PENDING_SECONDS,
            Stage::SignedIn { .. } => SIGNED_IN_SECONDS,
        };
        Some(BrowserSession {
            csrf: super::random_token::<24>()?,
            stage,
            next: self.next.clone(),
            account_hint: self.account_hint.clone(),
            expires: now + lifetime,
        })
    }

    /// Whether a form's CSRF token is this session's (constant time).
    pub fn csrf_matches(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.as_bytes())))
    }

    pub fn signed_in(&self) -> Option<(&Person, i64)> {
        match &self.stage {
            Stage::SignedIn {
                person,
                password_changed,
            } => Some((person, *password_changed)),
            _ => None,
        }
    }
}

/// Only continuation targets of this service: the authorization endpoint
/// (to finish an OIDC sign-in) and the portal's own pages. Anything else
/// (another host, `//host`, a scheme) would be an open redirect.
pub fn safe_continue(path: &str) -> Option<&str> {
    let ok = (path.starts_with("/oidc/authorize?") || path.starts_with("/portal/"))
        && !path.contains(['\\', '\r', '\n'])
        && !path.contains("/..");
    ok.then_some(path)
}

/// The session in the request's cookie, if it opens and has not expired.
pub fn read(idp: &Idp, headers: &HeaderMap) -> Option<BrowserSession> {
    let value = cookie_value(headers, COOKIE)?;
    let sealed = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?
    };
    let plain = idp.state.master_key.open(SEAL_CONTEXT, &sealed).ok()?;
    let session: BrowserSession = serde_json::from_slice(&plain).ok()?;
    (idp.now().unix_timestamp() < session.expires).then_some(session)
}

/// Sets the cookie to `session` on `response`.
pub fn write(idp: &Idp, response: &mut Response<Body>, session: &BrowserSession) {
    let Ok(plain) = serde_json::to_vec(session).map(Zeroizing::new) else {
        return;
    };
    let Ok(sealed) = idp.state.master_key.seal(SEAL_CONTEXT, &plain) else {
        tracing::error!("cannot seal a portal session");
        return;
    };
    let max_age = (session.expires - idp.now().unix_timestamp()).max(0);
    set_cookie(idp, response, &super::b64url(&sealed), max_age);
}

/// Removes the cookie.
pub fn clear(idp: &Idp, response: &mut Response<Body>) {
    set_cookie(idp, response, "", 0);
}

fn set_cookie(idp: &Idp, response: &mut Response<Body>, value: &str, max_age: i64) {
    let path = if idp.base_path.is_empty() {
        "/"
    } else {
        idp.base_path.as_str()
    };
    let secure = if idp.secure { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_services_pages_are_continuation_targets() {
        assert!(safe_continue("/oidc/authorize?client_id=a").is_some());
        assert!(safe_continue("/portal/").is_some());
        for bad in [
            "https://evil.example/",
            "//evil.example/portal/",
            "/portal/../x",
            "/oidc/token",
            "/portal/\r\nSet-Cookie: x",
            "/portal\\x",
            "",
        ] {
            assert!(safe_continue(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_csrf_token_must_match_exactly() {
        let s = BrowserSession::anonymous(0).unwrap();
        let token = s.csrf.clone();
        assert!(s.csrf_matches(Some(&token)));
        assert!(!s.csrf_matches(Some(&token[1..])));
        assert!(!s.csrf_matches(Some("")));
        assert!(!s.csrf_matches(None));
        assert!(!format!("{s:?}").contains(&token));
    }

    #[test]
    fn advancing_replaces_the_csrf_token_and_the_lifetime() {
        let s = BrowserSession::anonymous(100).unwrap();
        let person = Person {
            account: "123456789012".into(),
            user_id: "AIDAEXAMPLE".into(),
            user_name: "alice".into(),
            user_path: "/".into(),
            auth_time: 100,
            mfa: false,
        };
        let next = s
            .advance(
                Stage::Mfa {
                    person,
                    must_change: false,
                },
                100,
            )
            .unwrap();
        assert_ne!(next.csrf, s.csrf);
        assert_eq!(next.expires, 100 + PENDING_SECONDS);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; portcullis_portal=xyz"),
        );
        assert_eq!(cookie_value(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&h, "b"), None);
    }
}
