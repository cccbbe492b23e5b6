//! The sign-in portal: server-rendered pages that sign an IAM user in
//! (password, then the MFA code when the user has an enabled device, then a
//! new password when one is due), list the roles the user may assume, and
//! hand out short-term credentials for one of them — the IAM Identity
//! Center access portal, for IAM users.
//!
//! "May assume" is decided by the policy engine: for each role of the
//! account, `sts:AssumeRole` on the role by the signed-in user, with the
//! role's trust policy as the resource-based policy and the user's own
//! policies, exactly as an `AssumeRole` call by the user would be decided
//! (with `aws:MultiFactorAuthPresent` true when the user signed in with a
//! code). The same decision is taken again when credentials are asked for.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use http::{HeaderValue, Request, Response, StatusCode, header};
use portcullis_policy::PolicyKind;
use portcullis_store::StoreError;
use portcullis_store::model::Role;

use crate::audit::AuditRecord;
use crate::error::{ApiError, store_error};
use crate::ops::sts::credentials::{self, NewSession};
use crate::password::Password;
use crate::protocol::xml::Timestamp;
use crate::sessions::SessionPrincipal;

use super::html::{self, CredentialsView, RoleRow};
use super::session::{self, BrowserSession, Person, Stage};
use super::signin::{self, Refusal};
use super::{Form, Idp};

/// Portal credentials last an hour (less when the role allows less).
pub const CREDENTIAL_SECONDS: i64 = 3600;
/// The portal lists at most this many roles of an account.
const MAX_ROLES: usize = 1000;

pub fn routes() -> Router<Arc<Idp>> {
    Router::new()
        .route("/portal", get(to_home))
        .route("/portal/", get(home))
        .route("/portal/style.css", get(style))
        .route("/portal/signin", get(signin_page).post(signin_submit))
        .route("/portal/mfa", get(mfa_page).post(mfa_submit))
        .route("/portal/password", get(password_page).post(password_submit))
        .route("/portal/credentials", axum::routing::post(credentials))
        .route("/portal/signout", axum::routing::post(signout))
}

async fn to_home(State(idp): State<Arc<Idp>>) -> Response<Body> {
    super::redirect(&idp.link("/portal/"))
}

async fn style() -> Response<Body> {
    let mut response = Response::new(Body::from(html::STYLE));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600"),
    );
    response
}

fn base(idp: &Idp) -> &str {
    &idp.base_path
}

/// A page with a (new or updated) session cookie.
fn with_session(
    idp: &Idp,
    status: StatusCode,
    page: String,
    session: &BrowserSession,
) -> Response<Body> {
    let mut response = html::respond(status, page);
    session::write(idp, &mut response, session);
    response
}

fn redirect_with(idp: &Idp, path: &str, session: &BrowserSession) -> Response<Body> {
    let mut response = super::redirect(&idp.link(path));
    session::write(idp, &mut response, session);
    response
}

fn trouble(idp: &Idp) -> Response<Body> {
    html::respond(
        StatusCode::INTERNAL_SERVER_ERROR,
        html::problem(
            base(idp),
            "Something went wrong",
            "The service could not complete this request. Try again later.",
        ),
    )
}

/// The signed-in person of a request, if the session is still good: the
/// user still exists (same unique id), keeps its login profile, and has
/// not changed its password since signing in.
pub(crate) async fn signed_in(idp: &Idp, session: &BrowserSession) -> Option<Person> {
    let (person, changed) = session.signed_in()?;
    let current = signin::password_changed(&idp.state, person).await?;
    (current == changed).then(|| person.clone())
}

fn signin_form(idp: &Idp, session: &BrowserSession, user: &str, error: Option<&str>) -> String {
    let account = session
        .account_hint
        .clone()
        .unwrap_or_else(|| idp.state.config.account_id.clone());
    html::signin(base(idp), &session.csrf, &account, user, error)
}

/// A fresh anonymous session that keeps where the visitor was going.
fn restart(
    idp: &Idp,
    next: Option<String>,
    account_hint: Option<String>,
) -> Option<BrowserSession> {
    let mut s = BrowserSession::anonymous(idp.now().unix_timestamp())?;
    s.next = next;
    s.account_hint = account_hint;
    Some(s)
}

async fn home(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let Some(session) = session::read(&idp, req.headers()) else {
        return super::redirect(&idp.link("/portal/signin"));
    };
    let Some(person) = signed_in(&idp, &session).await else {
        return super::redirect(&idp.link("/portal/signin"));
    };
    let transport = super::transport(&idp, &req);
    match assumable_roles(&idp, &person, transport).await {
        Ok(roles) => html::respond(
            StatusCode::OK,
            html::home(
                base(&idp),
                &session.csrf,
                &signin::person_arn(&person),
                person.mfa,
                &roles,
                None,
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e.message(), "cannot list the roles of a portal user");
            trouble(&idp)
        }
    }
}

async fn signin_page(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let query = Form::parse(req.uri().query().unwrap_or("").as_bytes());
    let next = query
        .get("continue")
        .and_then(session::safe_continue)
        .map(str::to_owned);
    let account_hint = query
        .get("account")
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    if next.is_none()
        && let Some(existing) = session::read(&idp, req.headers())
        && signed_in(&idp, &existing).await.is_some()
    {
        return super::redirect(&idp.link("/portal/"));
    }
    let Some(session) = restart(&idp, next, account_hint) else {
        return trouble(&idp);
    };
    let page = signin_form(&idp, &session, "", None);
    with_session(&idp, StatusCode::OK, page, &session)
}

/// The session and form of a POST, with the CSRF token checked; `Err` is
/// the answer to give instead (the sign-in form again, with a new session).
async fn posted(
    idp: &Idp,
    req: Request<Body>,
) -> Result<(BrowserSession, Form, crate::authn::Transport), Response<Body>> {
    let transport = super::transport(idp, &req);
    let existing = session::read(idp, req.headers());
    let body = super::read_body(req.into_body()).await;
    let form = body.map(|b| Form::parse(&b)).unwrap_or_default();
    match existing {
        Some(s) if s.csrf_matches(form.get("csrf")) => Ok((s, form, transport)),
        other => {
            let (next, hint) = other.map(|s| (s.next, s.account_hint)).unwrap_or_default();
            let Some(fresh) = restart(idp, next, hint) else {
                return Err(trouble(idp));
            };
            let page = signin_form(
                idp,
                &fresh,
                "",
                Some("Your sign-in page expired. Please sign in again."),
            );
            Err(with_session(idp, StatusCode::FORBIDDEN, page, &fresh))
        }
    }
}

/// The account a person typed: its 12-digit id, or the alias of one of the
/// accounts this server holds.
async fn resolve_account(idp: &Idp, typed: &str) -> Option<String> {
    let typed = typed.trim();
    if typed.len() == 12 && typed.bytes().all(|b| b.is_ascii_digit()) {
        return Some(typed.to_owned());
    }
    let config = &idp.state.config;
    for account in std::iter::once(&config.account_id).chain(&config.additional_accounts) {
        if let Ok(a) = idp.state.store.get_account(account).await
            && a.alias.as_deref() == Some(typed)
        {
            return Some(a.id);
        }
    }
    None
}

fn audit_signin(
    idp: &Idp,
    transport: crate::authn::Transport,
    who: &str,
    outcome: Result<(), &Refusal>,
) {
    let (decision, error_code) = match outcome {
        Ok(()) => ("Allow", None),
        Err(Refusal::BadCredentials) => ("Deny", Some("BadCredentials")),
        Err(Refusal::BadCode) => ("Deny", Some("BadMfaCode")),
        Err(Refusal::Locked) => ("Deny", Some("Locked")),
        Err(Refusal::Expired) => ("Deny", Some("PasswordExpired")),
        Err(Refusal::Internal(_)) => ("Deny", Some("ServiceFailure")),
    };
    idp.state.audit.record(AuditRecord {
        time: Timestamp(idp.now()),
        request_id: crate::request::RequestId::new(),
        service: "signin",
        source_ip: Some(transport.source_ip),
        caller: Some(who.to_owned().into()),
        action: "signin:ConsoleLogin".into(),
        decision,
        error_code,
        ..AuditRecord::default()
    });
}

async fn signin_submit(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let (session, form, transport) = match posted(&idp, req).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let user_name = form.get("username").unwrap_or("").trim().to_owned();
    let password = Password::new(form.get("password").unwrap_or("").to_owned());
    let now = idp.now();
    let account = resolve_account(&idp, form.get("account").unwrap_or("")).await;
    let result = match &account {
        Some(account) => {
            signin::verify_password(&idp.state, account, &user_name, &password, now).await
        }
        None => Err(Refusal::BadCredentials),
    };
    let who = format!(
        "{}:{user_name}",
        account.as_deref().unwrap_or("unknown-account")
    );
    let ok = match result {
        Ok(ok) => ok,
        Err(refusal) => {
            if let Refusal::Internal(e) = &refusal {
                tracing::error!(error = %e.message(), "sign-in failed inside the service");
            }
            audit_signin(&idp, transport, &who, Err(&refusal));
            let mut retry = session.clone();
            if let Some(account) = &account {
                retry.account_hint = Some(account.clone());
            }
            let page = signin_form(&idp, &retry, &user_name, Some(refusal.message()));
            return with_session(&idp, StatusCode::UNAUTHORIZED, page, &retry);
        }
    };
    let person = Person {
        account: ok.user.account_id.clone(),
        user_id: ok.user.id.clone(),
        user_name: ok.user.name.clone(),
        user_path: ok.user.path.clone(),
        auth_time: now.unix_timestamp(),
        mfa: false,
    };
    if ok.has_mfa {
        let stage = Stage::Mfa {
            person,
            must_change: ok.must_change,
        };
        return match session.advance(stage, now.unix_timestamp()) {
            Some(next) => redirect_with(&idp, "/portal/mfa", &next),
            None => trouble(&idp),
        };
    }
    audit_signin(&idp, transport, &ok.user.arn, Ok(()));
    signin::succeeded(&idp.state, &person, now).await;
    proceed(&idp, &session, person, ok.must_change).await
}

/// Every factor is proven: a new password if one is due, else signed in.
async fn proceed(
    idp: &Idp,
    session: &BrowserSession,
    person: Person,
    must_change: bool,
) -> Response<Body> {
    let now = idp.now().unix_timestamp();
    if must_change {
        return match session.advance(Stage::NewPassword(person), now) {
            Some(next) => redirect_with(idp, "/portal/password", &next),
            None => trouble(idp),
        };
    }
    let Some(password_changed) = signin::password_changed(&idp.state, &person).await else {
        return trouble(idp);
    };
    let Some(mut next) = session.advance(
        Stage::SignedIn {
            person,
            password_changed,
        },
        now,
    ) else {
        return trouble(idp);
    };
    let target = next.next.take().unwrap_or_else(|| "/portal/".to_owned());
    redirect_with(idp, &target, &next)
}

async fn mfa_page(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    match session::read(&idp, req.headers()) {
        Some(s) => match &s.stage {
            Stage::Mfa { person, .. } => html::respond(
                StatusCode::OK,
                html::mfa(base(&idp), &s.csrf, &person.user_name, None),
            ),
            _ => super::redirect(&idp.link("/portal/signin")),
        },
        None => super::redirect(&idp.link("/portal/signin")),
    }
}

async fn mfa_submit(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let (session, form, transport) = match posted(&idp, req).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let Stage::Mfa {
        person,
        must_change,
    } = session.stage.clone()
    else {
        return super::redirect(&idp.link("/portal/signin"));
    };
    let now = idp.now();
    let code = form.get("code").unwrap_or("");
    match signin::verify_code(&idp.state, &person, code, now).await {
        Ok(()) => {
            audit_signin(&idp, transport, &signin::person_arn(&person), Ok(()));
            signin::succeeded(&idp.state, &person, now).await;
            let person = Person {
                mfa: true,
                ..person
            };
            proceed(&idp, &session, person, must_change).await
        }
        Err(refusal) => {
            audit_signin(&idp, transport, &signin::person_arn(&person), Err(&refusal));
            if let Refusal::Locked = refusal {
                // Start over: the password step will say it is locked.
                let Some(fresh) = restart(&idp, session.next.clone(), Some(person.account.clone()))
                else {
                    return trouble(&idp);
                };
                let page = signin_form(&idp, &fresh, &person.user_name, Some(refusal.message()));
                return with_session(&idp, StatusCode::UNAUTHORIZED, page, &fresh);
            }
            html::respond(
                StatusCode::UNAUTHORIZED,
                html::mfa(
                    base(&idp),
                    &session.csrf,
                    &person.user_name,
                    Some(refusal.message()),
                ),
            )
        }
    }
}

async fn password_page(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    match session::read(&idp, req.headers()) {
        Some(s) => match &s.stage {
            Stage::NewPassword(person) => html::respond(
                StatusCode::OK,
                html::new_password(base(&idp), &s.csrf, &person.user_name, None),
            ),
            _ => super::redirect(&idp.link("/portal/signin")),
        },
        None => super::redirect(&idp.link("/portal/signin")),
    }
}

async fn password_submit(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let (session, form, transport) = match posted(&idp, req).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let Stage::NewPassword(person) = session.stage.clone() else {
        return super::redirect(&idp.link("/portal/signin"));
    };
    let new = Password::new(form.get("new_password").unwrap_or("").to_owned());
    let confirm = Password::new(form.get("confirm_password").unwrap_or("").to_owned());
    let now = idp.now();
    match signin::change_password(&idp.state, &person, transport, &new, &confirm, now).await {
        Ok(()) => proceed(&idp, &session, person, false).await,
        Err(message) => html::respond(
            StatusCode::BAD_REQUEST,
            html::new_password(base(&idp), &session.csrf, &person.user_name, Some(&message)),
        ),
    }
}

async fn signout(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let (session, _, _) = match posted(&idp, req).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let mut response = super::redirect(&idp.link("/portal/signin"));
    session::clear(&idp, &mut response);
    drop(session);
    response
}

/// The role's compiled trust policy; `None` when it no longer compiles
/// (logged: such a role can be assumed by no one).
fn trust_policy(idp: &Idp, role: &Role) -> Option<Arc<portcullis_policy::Policy>> {
    idp.state
        .compiled
        .get_or_compile(
            &format!("{}/trust", role.arn),
            &role.assume_role_policy_document,
            PolicyKind::Trust,
        )
        .ok()
}

/// The name of the person's role sessions: the user name (at least two
/// characters, as `RoleSessionName` requires).
fn session_name(person: &Person) -> String {
    if person.user_name.len() >= 2 {
        person.user_name.clone()
    } else {
        format!("portal-{}", person.user_name)
    }
}

async fn may_assume(
    idp: &Idp,
    person: &Person,
    transport: crate::authn::Transport,
    role: &Role,
) -> Result<bool, ApiError> {
    let Some(trust) = trust_policy(idp, role) else {
        return Ok(false);
    };
    let name = session_name(person);
    signin::decide(
        &idp.state,
        person,
        transport,
        "sts:AssumeRole",
        &role.arn,
        Some((trust, &role.account_id)),
        &role.tags,
        &[("sts:RoleSessionName", &name)],
    )
    .await
}

/// Every role of the person's account that the person may assume, by name.
pub(crate) async fn assumable_roles(
    idp: &Idp,
    person: &Person,
    transport: crate::authn::Transport,
) -> Result<Vec<RoleRow>, ApiError> {
    let mut out = Vec::new();
    let mut marker = None;
    let mut seen = 0;
    loop {
        let page = idp
            .state
            .store
            .list_roles(&person.account, None, marker, 100)
            .await
            .map_err(store_error)?;
        for listed in page.items {
            seen += 1;
            // The list leaves tags out; trust policies may test them.
            let role = match idp
                .state
                .store
                .get_role(&person.account, &listed.name)
                .await
            {
                Ok(r) => r,
                Err(StoreError::NoSuchEntity(_)) => continue,
                Err(e) => return Err(store_error(e)),
            };
            if may_assume(idp, person, transport, &role).await? {
                out.push(RoleRow {
                    name: role.name,
                    arn: role.arn,
                    description: role.description,
                });
            }
        }
        match page.next_marker {
            Some(m) if seen < MAX_ROLES => marker = Some(m),
            _ => break,
        }
    }
    Ok(out)
}

async fn credentials(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let (session, form, transport) = match posted(&idp, req).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let Some(person) = signed_in(&idp, &session).await else {
        return super::redirect(&idp.link("/portal/signin"));
    };
    let role_arn = form.get("role_arn").unwrap_or("").to_owned();
    let now = idp.now();
    let user_arn = signin::person_arn(&person);
    let mut record = AuditRecord {
        time: Timestamp(now),
        request_id: crate::request::RequestId::new(),
        service: "sts",
        source_ip: Some(transport.source_ip),
        caller: Some(user_arn.clone().into()),
        action: "sts:AssumeRole".into(),
        resource: role_arn.clone(),
        decision: "Deny",
        ..AuditRecord::default()
    };
    let denied = |idp: &Idp, record: AuditRecord| {
        idp.state.audit.record(record);
        let message = format!(
            "User: {user_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        );
        html::respond(
            StatusCode::FORBIDDEN,
            html::problem(base(idp), "Access denied", &message),
        )
    };
    let role = match crate::authz::parse_role_arn(&role_arn) {
        Some((account, path, name)) if account == person.account => {
            match idp.state.store.get_role(account, name).await {
                Ok(r) if r.path == path => Some(r),
                Ok(_) | Err(StoreError::NoSuchEntity(_)) => None,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read a role for the portal");
                    return trouble(&idp);
                }
            }
        }
        _ => None,
    };
    let Some(role) = role else {
        return denied(&idp, record);
    };
    match may_assume(&idp, &person, transport, &role).await {
        Ok(true) => {}
        Ok(false) => return denied(&idp, record),
        Err(e) => {
            tracing::error!(error = %e.message(), "cannot decide a portal role assumption");
            return trouble(&idp);
        }
    }
    let seconds = CREDENTIAL_SECONDS.min(i64::from(role.max_session_duration));
    let session_name = session_name(&person);
    let issued = credentials::issue_at(
        &idp.state,
        now,
        NewSession {
            account: role.account_id.clone(),
            principal: SessionPrincipal::Role {
                role_id: role.id.clone(),
                role_name: role.name.clone(),
                role_path: role.path.clone(),
                session_name: session_name.clone(),
            },
            session_policies: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            mfa_auth_time: person.mfa.then_some(person.auth_time),
            source_identity: None,
            chained: false,
            context: Vec::new(),
        },
        seconds,
    );
    let (creds, claims) = match issued {
        Ok(c) => c,
        Err(_) => return trouble(&idp),
    };
    if let Err(e) = idp
        .state
        .store
        .record_role_use(&role.account_id, &role.name, now, "us-east-1")
        .await
    {
        tracing::warn!(error = %e, "cannot record a role use");
    }
    record.decision = "Allow";
    idp.state.audit.record(record);
    let profile = format!("{}_{}", role.account_id, role.name);
    let page = html::credentials(
        base(&idp),
        &session.csrf,
        &CredentialsView {
            role_arn: &role.arn,
            assumed_arn: &claims.arn(),
            profile: &profile,
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key.0,
            session_token: &creds.session_token,
            expiration: &Timestamp(claims.expires_at()).to_iso8601(),
        },
    );
    html::respond(StatusCode::OK, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_at_least_two_characters() {
        let mut p = Person {
            account: "123456789012".into(),
            user_id: "AIDA".into(),
            user_name: "a".into(),
            user_path: "/".into(),
            auth_time: 0,
            mfa: false,
        };
        assert_eq!(session_name(&p), "portal-a");
        p.user_name = "alice".into();
        assert_eq!(session_name(&p), "alice");
    }
}
