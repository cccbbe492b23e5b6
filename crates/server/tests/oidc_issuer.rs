//! The OIDC issuer against an independent relying party: the `openidconnect`
//! crate discovers the issuer, builds the authorization request (PKCE S256,
//! nonce, state), exchanges the code and validates the ID token against
//! the published JWKS. The person's side — the sign-in form — is driven
//! with plain HTTP requests, cookie and CSRF token included, as a browser
//! would. The service runs in process on a loopback port; expiry and key
//! rotation are reached by moving the service's clock.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of tests: a failed step must fail the test loudly"
)]

#[path = "support/backend.rs"]
mod backend;

use std::sync::Arc;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
};
use portcullis_server::bootstrap;
use portcullis_server::config::Config;
use portcullis_server::idp::clients::secret_hash;
use portcullis_server::password::{self, Password};
use portcullis_server::state::AppState;
use portcullis_store::model::{
    Ciphertext, NewLoginProfile, NewOidcClient, NewUser, NewVirtualMfaDevice, PasswordPolicy,
};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const PASSWORD: &str = "Corr3ct-Horse!";
const SECRET: &str = "a-confidential-client-secret-of-the-test";

struct Service {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    base: String,
    account: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::new(addr, dir.path().join("data"));
    config.public_url = Some(format!("http://{addr}"));
    config.database_url = backend::database_url();
    let (state, _) = bootstrap::start(config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(portcullis_server::http::serve(
        state.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    Service {
        account: state.config.account_id.clone(),
        base: format!("http://{addr}"),
        state,
        _dir: dir,
        stop: Some(stop),
    }
}

impl Service {
    fn issuer(&self) -> String {
        format!("{}/oidc", self.base)
    }

    async fn user(&self, name: &str, reset_required: bool) -> String {
        let now = self.state.clock.now();
        let user = self
            .state
            .store
            .create_user(
                &self.account,
                &NewUser {
                    name: name.into(),
                    path: "/".into(),
                    ..NewUser::default()
                },
                now,
            )
            .await
            .unwrap();
        let hash = password::hash(&Password::new(PASSWORD.into()))
            .await
            .unwrap();
        self.state
            .store
            .create_login_profile(
                &self.account,
                name,
                &NewLoginProfile {
                    password_hash: hash,
                    password_reset_required: reset_required,
                },
                now,
            )
            .await
            .unwrap();
        user.id
    }

    async fn client(&self, id: &str, secret: Option<&str>) {
        self.state
            .store
            .create_oidc_client(
                &self.account,
                &NewOidcClient {
                    client_id: id.into(),
                    name: id.into(),
                    redirect_uris: vec![REDIRECT.into()],
                    secret_hash: secret.map(secret_hash),
                },
                self.state.clock.now(),
            )
            .await
            .unwrap();
    }

    /// Gives `user` an enabled virtual MFA device; returns its seed.
    async fn mfa_device(&self, user: &str) -> portcullis_server::mfa::Seed {
        let now = self.state.clock.now();
        let seed = portcullis_server::mfa::Seed::generate().unwrap();
        let serial = portcullis_store::arn::mfa_arn(&self.account, "/", user);
        let sealed = seed.seal(&self.state.master_key, &serial).unwrap();
        self.state
            .store
            .create_virtual_mfa_device(
                &self.account,
                &NewVirtualMfaDevice {
                    name: user.into(),
                    path: "/".into(),
                    seed_ciphertext: Ciphertext::new(sealed),
                    tags: Vec::new(),
                },
                now,
            )
            .await
            .unwrap();
        let step = portcullis_server::mfa::step_at(now).unwrap();
        self.state
            .store
            .enable_mfa_device(&self.account, user, &serial, step - 5, now)
            .await
            .unwrap();
        seed
    }
}

/// A browser: no redirects followed by itself, one cookie.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// What a page or redirect answered.
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new(base: &str) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", c.clone()),
            None => request,
        };
        let response = request.send().await.unwrap();
        for value in response.headers().get_all("set-cookie") {
            let pair = value
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            self.cookie = Some(pair);
        }
        Answer {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned()),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        let url = self.absolute(url);
        let request = self.http.get(url);
        self.send(request).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let url = self.absolute(url);
        let request = self.http.post(url).form(form);
        self.send(request).await
    }
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Opens `authorize_url`, signs in on the form, and returns the final
/// answer (normally the redirect to the client with the code).
async fn sign_in(
    browser: &mut Browser,
    authorize_url: &str,
    user: &str,
    password: &str,
    code: Option<&str>,
) -> Answer {
    let to_signin = browser.get(authorize_url).await;
    assert_eq!(to_signin.status, 303, "{}", to_signin.body);
    let location = to_signin.location.unwrap();
    assert!(location.starts_with("/portal/signin?"), "{location}");
    let form = browser.get(&location).await;
    assert_eq!(form.status, 200);
    let csrf = csrf_of(&form.body);
    let account = query_param(&location, "account").unwrap();
    let after = browser
        .post(
            "/portal/signin",
            &[
                ("csrf", &csrf),
                ("account", &account),
                ("username", user),
                ("password", password),
            ],
        )
        .await;
    if after.status != 303 {
        return after;
    }
    let mut next = after.location.unwrap();
    if next == "/portal/mfa" {
        let page = browser.get(&next).await;
        let csrf = csrf_of(&page.body);
        let answer = browser
            .post(
                "/portal/mfa",
                &[("csrf", &csrf), ("code", code.expect("an MFA code"))],
            )
            .await;
        if answer.status != 303 {
            return answer;
        }
        next = answer.location.unwrap();
    }
    if next == "/portal/password" {
        return browser.get(&next).await;
    }
    browser.get(&next).await
}

async fn rp_http(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (parts, body) = request.into_parts();
    let mut builder = client
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (k, v) in &parts.headers {
        builder = builder.header(k, v);
    }
    let response = builder.send().await?;
    let mut out = http::Response::builder().status(response.status());
    for (k, v) in response.headers() {
        out = out.header(k, v);
    }
    let body = response.bytes().await?.to_vec();
    Ok(out.body(body).unwrap())
}

fn http_client() -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>>>,
> {
    |request| Box::pin(rp_http(request))
}

/// Token endpoint request by hand (for the refusals the library would
/// not send).
async fn token_request(
    base: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/oidc/token"))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// An authorization URL made by hand, with a PKCE pair.
fn manual_authorize(
    base: &str,
    client_id: &str,
    challenge: Option<&str>,
    extra: &[(&str, &str)],
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid profile")
        .append_pair("state", "st-1")
        .append_pair("nonce", "n-1");
    if let Some(c) = challenge {
        q.append_pair("code_challenge", c)
            .append_pair("code_challenge_method", "S256");
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{base}/oidc/authorize?{}", q.finish())
}

fn pkce_pair() -> (String, String) {
    let verifier = "v".repeat(20) + "-pkce-verifier-of-the-tests-0123456789";
    let challenge = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
        )
    };
    (verifier, challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_completes_the_code_flow_with_pkce_and_validates_the_id_token() {
    let svc = start().await;
    let user_id = svc.user("alice", false).await;
    svc.client("directory", Some(SECRET)).await;
    let http = http_client();

    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(svc.issuer()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("directory".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut browser = Browser::new(&svc.base);
    let back = sign_in(&mut browser, url.as_str(), "alice", PASSWORD, None).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let location = back.location.unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&location, "iss"), Some(svc.issuer()));
    let code = query_param(&location, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.issuer().as_str(), svc.issuer());
    assert_eq!(claims.subject().as_str(), user_id);
    assert!(user_id.starts_with("AIDA"), "{user_id}");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["pwd"]);
    let auth_time = claims.auth_time().expect("auth_time");
    assert!((claims.issue_time() - auth_time).num_seconds().abs() < 30);
    // at_hash is optional for the code flow; the access token still works.
    assert!(
        claims
            .access_token_hash()
            .is_none_or(|h: &AccessTokenHash| !h.is_empty())
    );

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    // A nonce other than the request's is refused by the relying party.
    assert!(
        id_token
            .claims(&client.id_token_verifier(), &Nonce::new("other".into()))
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_single_use_bound_to_client_redirect_and_verifier() {
    let svc = start().await;
    svc.user("bob", false).await;
    svc.client("rp", Some(SECRET)).await;
    svc.client("other-rp", Some(SECRET)).await;
    let (verifier, challenge) = pkce_pair();
    let base = svc.base.clone();
    let mut browser = Browser::new(&base);

    // Wrong redirect URI at the authorization endpoint: shown, not redirected.
    let wrong =
        manual_authorize(&base, "rp", Some(&challenge), &[]).replace("callback", "elsewhere");
    let answer = browser.get(&wrong).await;
    assert_eq!(answer.status, 400);
    assert!(answer.location.is_none());
    assert!(answer.body.contains("redirect_uri"), "{}", answer.body);

    // Sign in once; later authorizations reuse the session.
    let first = sign_in(
        &mut browser,
        &manual_authorize(&base, "rp", Some(&challenge), &[]),
        "bob",
        PASSWORD,
        None,
    )
    .await;
    let code = query_param(&first.location.unwrap(), "code").unwrap();
    let exchange =
        |code: String, secret: &'static str, verifier: String, redirect: &'static str| {
            let base = base.clone();
            async move {
                token_request(
                    &base,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", redirect),
                        ("code_verifier", &verifier),
                    ],
                    Some(("rp", secret)),
                )
                .await
            }
        };
    // A wrong secret is refused before the code is looked at…
    let (status, body) = exchange(code.clone(), "wrong-secret", verifier.clone(), REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // …so the code still works once, and only once.
    let (status, body) = exchange(code.clone(), SECRET, verifier.clone(), REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    assert_eq!(body["token_type"], "Bearer");
    let (status, body) = exchange(code.clone(), SECRET, verifier.clone(), REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // A bad verifier burns the code.
    let again = browser
        .get(&manual_authorize(&base, "rp", Some(&challenge), &[]))
        .await;
    let code = query_param(&again.location.unwrap(), "code").unwrap();
    let bad_verifier = "x".repeat(43);
    let (status, body) = exchange(code.clone(), SECRET, bad_verifier, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, _) = exchange(code, SECRET, verifier.clone(), REDIRECT).await;
    assert_eq!(status, 400, "the failed attempt consumed the code");

    // A different redirect_uri at the token endpoint.
    let again = browser
        .get(&manual_authorize(&base, "rp", Some(&challenge), &[]))
        .await;
    let code = query_param(&again.location.unwrap(), "code").unwrap();
    let (status, body) = exchange(code, SECRET, verifier.clone(), "http://127.0.0.1:9/other").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // Another client cannot redeem the code.
    let again = browser
        .get(&manual_authorize(&base, "rp", Some(&challenge), &[]))
        .await;
    let code = query_param(&again.location.unwrap(), "code").unwrap();
    let (status, body) = token_request(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
        Some(("other-rp", SECRET)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // An expired code.
    let again = browser
        .get(&manual_authorize(&base, "rp", Some(&challenge), &[]))
        .await;
    let code = query_param(&again.location.unwrap(), "code").unwrap();
    svc.state
        .clock
        .advance(portcullis_server::idp::oidc::CODE_SECONDS + 1);
    let (status, body) = exchange(code, SECRET, verifier.clone(), REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // client_secret_post works as well as Basic; no secret at all does not.
    let again = browser
        .get(&manual_authorize(&base, "rp", Some(&challenge), &[]))
        .await;
    let code = query_param(&again.location.unwrap(), "code").unwrap();
    let (status, body) = token_request(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", "rp"),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_request(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", "rp"),
            ("client_secret", SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_clients_must_use_pkce_and_no_secret() {
    let svc = start().await;
    svc.user("carol", false).await;
    svc.client("spa", None).await;
    let base = svc.base.clone();
    let mut browser = Browser::new(&base);
    let (verifier, challenge) = pkce_pair();

    // Without PKCE: an error back at the client, with its state.
    let no_pkce = browser
        .get(&manual_authorize(&base, "spa", None, &[]))
        .await;
    let location = no_pkce.location.unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    // plain is not accepted.
    let plain = browser
        .get(&manual_authorize(
            &base,
            "spa",
            None,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "plain"),
            ],
        ))
        .await;
    assert_eq!(
        query_param(&plain.location.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
    // prompt=none without a session.
    let silent = browser
        .get(&manual_authorize(
            &base,
            "spa",
            Some(&challenge),
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(
        query_param(&silent.location.unwrap(), "error").as_deref(),
        Some("login_required")
    );

    let back = sign_in(
        &mut browser,
        &manual_authorize(&base, "spa", Some(&challenge), &[]),
        "carol",
        PASSWORD,
        None,
    )
    .await;
    let code = query_param(&back.location.unwrap(), "code").unwrap();
    let (status, body) = token_request(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", "spa"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Signed in now: prompt=none succeeds silently.
    let silent = browser
        .get(&manual_authorize(
            &base,
            "spa",
            Some(&challenge),
            &[("prompt", "none")],
        ))
        .await;
    assert!(query_param(&silent.location.unwrap(), "code").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_user_for_a_while() {
    let svc = start().await;
    svc.user("dave", false).await;
    svc.client("rp", Some(SECRET)).await;
    let (_, challenge) = pkce_pair();
    let url = manual_authorize(&svc.base, "rp", Some(&challenge), &[]);
    let mut browser = Browser::new(&svc.base);
    for _ in 0..portcullis_server::idp::signin::LOCKOUT.max_failures - 1 {
        let answer = sign_in(&mut browser, &url, "dave", "wrong password", None).await;
        assert_eq!(answer.status, 401);
        assert!(
            answer
                .body
                .contains("authentication information is incorrect"),
            "{}",
            answer.body
        );
    }
    let last = sign_in(&mut browser, &url, "dave", "wrong password", None).await;
    assert!(last.body.contains("locked"), "{}", last.body);
    // Locked: even the right password is refused, without a new failure.
    let right = sign_in(&mut browser, &url, "dave", PASSWORD, None).await;
    assert_eq!(right.status, 401);
    assert!(right.body.contains("locked"), "{}", right.body);
    // An unknown user reads like a wrong password.
    let unknown = sign_in(&mut browser, &url, "nobody", PASSWORD, None).await;
    assert!(
        unknown
            .body
            .contains("authentication information is incorrect")
    );

    svc.state
        .clock
        .advance(portcullis_server::idp::signin::LOCKOUT.lock_seconds + 1);
    let after = sign_in(&mut browser, &url, "dave", PASSWORD, None).await;
    assert_eq!(after.status, 303, "{}", after.body);
    assert!(query_param(&after.location.unwrap(), "code").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_reset_forces_a_new_password_under_the_policy() {
    let svc = start().await;
    svc.user("erin", true).await;
    svc.client("rp", Some(SECRET)).await;
    svc.state
        .store
        .put_password_policy(
            &svc.account,
            &PasswordPolicy {
                minimum_password_length: 12,
                require_numbers: true,
                allow_users_to_change_password: true,
                ..PasswordPolicy::default()
            },
        )
        .await
        .unwrap();
    let (_, challenge) = pkce_pair();
    let url = manual_authorize(&svc.base, "rp", Some(&challenge), &[]);
    let mut browser = Browser::new(&svc.base);
    let page = sign_in(&mut browser, &url, "erin", PASSWORD, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("choose a new password"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    // The policy refuses a short one; a mismatch is refused too.
    let weak = browser
        .post(
            "/portal/password",
            &[
                ("csrf", &csrf),
                ("new_password", "short1"),
                ("confirm_password", "short1"),
            ],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert!(
        weak.body.contains("at least 12 characters"),
        "{}",
        weak.body
    );
    let mismatch = browser
        .post(
            "/portal/password",
            &[
                ("csrf", &csrf),
                ("new_password", "long-enough-pw-1"),
                ("confirm_password", "long-enough-pw-2"),
            ],
        )
        .await;
    assert!(mismatch.body.contains("do not match"));
    // The code is not given before the password is changed.
    let early = browser.get(&url).await;
    assert!(early.location.unwrap().starts_with("/portal/signin"));
    let page = browser.get("/portal/password").await;
    assert_eq!(page.status, 200, "the pending step survives a detour");
    let csrf = csrf_of(&page.body);
    let done = browser
        .post(
            "/portal/password",
            &[
                ("csrf", &csrf),
                ("new_password", "long-enough-pw-1"),
                ("confirm_password", "long-enough-pw-1"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let back = browser.get(&done.location.unwrap()).await;
    assert!(query_param(&back.location.unwrap(), "code").is_some());

    // The old password no longer works; the new one does, with no reset.
    let mut other = Browser::new(&svc.base);
    let old = sign_in(&mut other, &url, "erin", PASSWORD, None).await;
    assert_eq!(old.status, 401);
    let new = sign_in(&mut other, &url, "erin", "long-enough-pw-1", None).await;
    assert_eq!(new.status, 303);
    assert!(query_param(&new.location.unwrap(), "code").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_without_permission_to_change_the_password_is_refused() {
    let svc = start().await;
    svc.user("frank", true).await;
    svc.client("rp", Some(SECRET)).await;
    let (_, challenge) = pkce_pair();
    let url = manual_authorize(&svc.base, "rp", Some(&challenge), &[]);
    let mut browser = Browser::new(&svc.base);
    let page = sign_in(&mut browser, &url, "frank", PASSWORD, None).await;
    let csrf = csrf_of(&page.body);
    let refused = browser
        .post(
            "/portal/password",
            &[
                ("csrf", &csrf),
                ("new_password", "Another-Pw-123"),
                ("confirm_password", "Another-Pw-123"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("iam:ChangePassword"),
        "{}",
        refused.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mfa_user_signs_in_with_a_code_and_gets_amr_mfa() {
    let svc = start().await;
    svc.user("grace", false).await;
    let seed = svc.mfa_device("grace").await;
    svc.client("rp", Some(SECRET)).await;
    let (verifier, challenge) = pkce_pair();
    let url = manual_authorize(&svc.base, "rp", Some(&challenge), &[]);
    let step = portcullis_server::mfa::step_at(svc.state.clock.now()).unwrap();

    let mut browser = Browser::new(&svc.base);
    let wrong = seed.code_at_step(step + 5);
    let refused = sign_in(&mut browser, &url, "grace", PASSWORD, Some(wrong.as_str())).await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.body.contains("MFA code is not valid"),
        "{}",
        refused.body
    );

    let mut browser = Browser::new(&svc.base);
    let code = seed.code_at_step(step);
    let back = sign_in(&mut browser, &url, "grace", PASSWORD, Some(code.as_str())).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let auth_code = query_param(&back.location.unwrap(), "code").unwrap();
    let (status, body) = token_request(
        &svc.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &auth_code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
        Some(("rp", SECRET)),
    )
    .await;
    assert_eq!(status, 200);
    let claims = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "mfa"]));
    assert_eq!(claims["nonce"], "n-1");

    // The same code cannot sign in twice.
    let mut again = Browser::new(&svc.base);
    let replay = sign_in(&mut again, &url, "grace", PASSWORD, Some(code.as_str())).await;
    assert_eq!(replay.status, 401);
}

fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn jwt_kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_and_old_keys_stay_published_until_their_tokens_expire() {
    let svc = start().await;
    svc.user("heidi", false).await;
    svc.client("rp", Some(SECRET)).await;
    let (verifier, challenge) = pkce_pair();
    let url = manual_authorize(&svc.base, "rp", Some(&challenge), &[]);
    let mut browser = Browser::new(&svc.base);
    let jwks = || async {
        reqwest::get(format!("{}/oidc/jwks.json", svc.base))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let kids = |doc: &serde_json::Value| -> Vec<String> {
        doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut tokens = Vec::new();
    let exchange = async |browser: &mut Browser| {
        let back = browser.get(&url).await;
        let code = query_param(&back.location.unwrap(), "code").unwrap();
        let (status, body) = token_request(
            &svc.base,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp", SECRET)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let first = sign_in(&mut browser, &url, "heidi", PASSWORD, None).await;
    assert_eq!(first.status, 303);
    tokens.push(exchange(&mut browser).await);
    let before = kids(&jwks().await);
    assert_eq!(before.len(), 1);
    assert_eq!(jwt_kid(tokens[0]["id_token"].as_str().unwrap()), before[0]);

    // A week later a new key signs; the old one is still published.
    svc.state.clock.advance(7 * 24 * 3600);
    let mut browser = Browser::new(&svc.base);
    let back = sign_in(&mut browser, &url, "heidi", PASSWORD, None).await;
    assert_eq!(back.status, 303);
    let body = exchange(&mut browser).await;
    let new_kid = jwt_kid(body["id_token"].as_str().unwrap());
    assert_ne!(new_kid, before[0]);
    let during = kids(&jwks().await);
    assert_eq!(during, vec![new_kid.clone(), before[0].clone()]);
    // The new access token works at userinfo.
    let info = reqwest::Client::new()
        .get(format!("{}/oidc/userinfo", svc.base))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    // An ID token is not an access token.
    let wrong_type = reqwest::Client::new()
        .get(format!("{}/oidc/userinfo", svc.base))
        .bearer_auth(body["id_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 401);

    // Once every token of the old key has expired, it is retired.
    svc.state.clock.advance(2 * 3600);
    let after = kids(&jwks().await);
    assert_eq!(after, vec![new_kid]);
    // And the (now expired) access token is refused.
    let expired = reqwest::Client::new()
        .get(format!("{}/oidc/userinfo", svc.base))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
}
