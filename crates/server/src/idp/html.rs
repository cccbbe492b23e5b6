//! The portal's pages: plain HTML written with `format!`, every value that
//! comes from a request or the store escaped by [`esc`]. No script runs on
//! any page (the Content-Security-Policy says so).

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode, header};

/// The stylesheet, served at `/portal/style.css`.
pub const STYLE: &str = include_str!("style.css");

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page around `body`.
pub fn page(base: &str, title: &str, body: &str) -> String {
    let title = esc(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Portcullis</title>\
         <link rel=\"stylesheet\" href=\"{base}/portal/style.css\"></head>\
         <body><header><span class=\"brand\">Portcullis</span></header>\
         <main><h1>{title}</h1>{body}</main></body></html>\n",
        base = esc(base),
    )
}

/// An HTML response with the portal's security headers.
pub fn respond(status: StatusCode, html: String) -> Response<Body> {
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    super::harden(&mut response);
    response
}

pub fn error_box(message: Option<&str>) -> String {
    match message {
        Some(m) => format!(
            "<p class=\"error\" role=\"alert\" id=\"error\">{}</p>",
            esc(m)
        ),
        None => String::new(),
    }
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// The first step: account, user name, password.
pub fn signin(base: &str, csrf: &str, account: &str, user: &str, error: Option<&str>) -> String {
    let body = format!(
        "{error}<form method=\"post\" action=\"{base}/portal/signin\" id=\"signin\">{csrf}\
         <label>Account ID<input name=\"account\" id=\"account\" value=\"{account}\" \
         inputmode=\"numeric\" autocomplete=\"off\" required></label>\
         <label>IAM user name<input name=\"username\" id=\"username\" value=\"{user}\" \
         autocomplete=\"username\" required></label>\
         <label>Password<input type=\"password\" name=\"password\" id=\"password\" \
         autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" id=\"submit\">Sign in</button></form>",
        error = error_box(error),
        base = esc(base),
        csrf = csrf_field(csrf),
        account = esc(account),
        user = esc(user),
    );
    page(base, "Sign in", &body)
}

/// The second step, for users with an MFA device.
pub fn mfa(base: &str, csrf: &str, user: &str, error: Option<&str>) -> String {
    let body = format!(
        "{error}<p>Signing in as <strong>{user}</strong>. Enter the code your MFA device shows.</p>\
         <form method=\"post\" action=\"{base}/portal/mfa\" id=\"mfa\">{csrf}\
         <label>MFA code<input name=\"code\" id=\"code\" inputmode=\"numeric\" \
         autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" required></label>\
         <button type=\"submit\" id=\"submit\">Verify</button></form>",
        error = error_box(error),
        base = esc(base),
        csrf = csrf_field(csrf),
        user = esc(user),
    );
    page(base, "Multi-factor authentication", &body)
}

/// The forced change of password (reset required, or expired).
pub fn new_password(base: &str, csrf: &str, user: &str, error: Option<&str>) -> String {
    let body = format!(
        "{error}<p><strong>{user}</strong>, you must choose a new password before you continue.</p>\
         <form method=\"post\" action=\"{base}/portal/password\" id=\"password-form\">{csrf}\
         <label>New password<input type=\"password\" name=\"new_password\" id=\"new_password\" \
         autocomplete=\"new-password\" required></label>\
         <label>Confirm new password<input type=\"password\" name=\"confirm_password\" \
         id=\"confirm_password\" autocomplete=\"new-password\" required></label>\
         <button type=\"submit\" id=\"submit\">Set password</button></form>",
        error = error_box(error),
        base = esc(base),
        csrf = csrf_field(csrf),
        user = esc(user),
    );
    page(base, "Choose a new password", &body)
}

/// One role of the portal's list.
#[derive(Debug, Clone)]
pub struct RoleRow {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
}

fn signout_form(base: &str, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{base}/portal/signout\" class=\"inline\">{csrf}\
         <button type=\"submit\" id=\"signout\" class=\"secondary\">Sign out</button></form>",
        base = esc(base),
        csrf = csrf_field(csrf),
    )
}

/// The signed-in home page: the roles the person may assume.
pub fn home(
    base: &str,
    csrf: &str,
    user_arn: &str,
    mfa: bool,
    roles: &[RoleRow],
    error: Option<&str>,
) -> String {
    let mut rows = String::new();
    for r in roles {
        rows.push_str(&format!(
            "<tr class=\"role\" data-role=\"{name}\"><td><strong>{name}</strong><br>\
             <code>{arn}</code>{desc}</td><td>\
             <form method=\"post\" action=\"{base}/portal/credentials\">{csrf}\
             <input type=\"hidden\" name=\"role_arn\" value=\"{arn}\">\
             <button type=\"submit\" class=\"get-credentials\">Get credentials</button>\
             </form></td></tr>",
            name = esc(&r.name),
            arn = esc(&r.arn),
            desc = r
                .description
                .as_deref()
                .map(|d| format!("<br><small>{}</small>", esc(d)))
                .unwrap_or_default(),
            base = esc(base),
            csrf = csrf_field(csrf),
        ));
    }
    let list = if roles.is_empty() {
        "<p id=\"no-roles\">No role of this account trusts you. Ask an administrator to name \
         you in a role's trust policy.</p>"
            .to_owned()
    } else {
        format!(
            "<table id=\"roles\"><thead><tr><th>Role</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        "{error}<p class=\"who\">Signed in as <code id=\"who\">{user}</code>{mfa} {signout}</p>\
         <h2>Roles you can assume</h2>{list}",
        error = error_box(error),
        user = esc(user_arn),
        mfa = if mfa {
            " <span class=\"badge\" id=\"mfa-badge\">MFA</span>"
        } else {
            ""
        },
        signout = signout_form(base, csrf),
    );
    page(base, "AWS access portal", &body)
}

/// What the credentials page shows.
#[derive(Debug)]
pub struct CredentialsView<'a> {
    pub role_arn: &'a str,
    pub assumed_arn: &'a str,
    pub profile: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: &'a str,
    pub expiration: &'a str,
}

/// Short-term credentials of one role, as environment variables and as a
/// profile for `~/.aws/credentials`.
pub fn credentials(base: &str, csrf: &str, v: &CredentialsView<'_>) -> String {
    let env = format!(
        "export AWS_ACCESS_KEY_ID=\"{}\"\nexport AWS_SECRET_ACCESS_KEY=\"{}\"\nexport AWS_SESSION_TOKEN=\"{}\"",
        v.access_key_id, v.secret_access_key, v.session_token
    );
    let profile = format!(
        "[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}",
        v.profile, v.access_key_id, v.secret_access_key, v.session_token
    );
    let body = format!(
        "<p>Role <code id=\"role-arn\">{role}</code><br>Session <code id=\"assumed-arn\">{assumed}</code><br>\
         Expires <time id=\"expiration\">{exp}</time></p>\
         <h2>Environment variables</h2><p>Paste into a shell:</p><pre id=\"env\">{env}</pre>\
         <h2>Profile</h2><p>Add to <code>~/.aws/credentials</code>, then use \
         <code>--profile {profile_name}</code>:</p><pre id=\"profile\">{profile}</pre>\
         <p><a href=\"{base}/portal/\" id=\"back\">Back to the roles</a> {signout}</p>",
        role = esc(v.role_arn),
        assumed = esc(v.assumed_arn),
        exp = esc(v.expiration),
        env = esc(&env),
        profile_name = esc(v.profile),
        profile = esc(&profile),
        base = esc(base),
        signout = signout_form(base, csrf),
    );
    page(base, "Credentials", &body)
}

/// A page that only explains what went wrong.
pub fn problem(base: &str, title: &str, message: &str) -> String {
    page(base, title, &error_box(Some(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        let html = signin("", "t", "\"><script>", "<b>", Some("<i>"));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>"));
        assert!(!html.contains("<i>"));
    }

    #[test]
    fn every_role_gets_a_form_with_the_csrf_token() {
        let roles = vec![
            RoleRow {
                name: "a".into(),
                arn: "arn:aws:iam::123456789012:role/a".into(),
                description: None,
            },
            RoleRow {
                name: "b".into(),
                arn: "arn:aws:iam::123456789012:role/b".into(),
                description: Some("B".into()),
            },
        ];
        let html = home(
            "",
            "tok",
            "arn:aws:iam::123456789012:user/u",
            true,
            &roles,
            None,
        );
        assert_eq!(html.matches("name=\"role_arn\"").count(), 2);
        assert_eq!(
            html.matches("value=\"tok\"").count(),
            3,
            "two roles and sign-out"
        );
        assert!(html.contains("mfa-badge"));
    }
}
