//! `sts:DecodeAuthorizationMessage`, and the encoded authorization message
//! an `AccessDenied` can carry.
//!
//! The message is the explanation of the denial as JSON in AWS's decoded
//! shape (`allowed`, `explicitDeny`, `matchedStatements`, `failures`,
//! `context` with `principal`, `action`, `resource` and `conditions`), plus
//! Portcullis's own detail under `portcullis` (each statement that covered
//! the action and why it did not apply, and the context keys the policies
//! test that the request lacked), sealed with AES-256-GCM under the master
//! key and bound to the caller's account. Any node that shares the master
//! key decodes it with no database read; a message that was altered, or
//! made for another account or by another deployment, does not open
//! (`InvalidAuthorizationMessageException`).
//!
//! AWS's IAM and STS APIs do not put an encoded message in their
//! `AccessDenied` errors (services such as EC2 do). Portcullis follows
//! them by default; `portcullis serve --encoded-authorization-messages`
//! (or `PORTCULLIS_ENCODED_AUTHORIZATION_MESSAGES=1`) appends one to every
//! policy denial, as EC2 words it: `… Encoded authorization failure
//! message: …`.

use base64::Engine as _;
use portcullis_policy::{self as policy, Context, Decision, Effect, Mismatch, PolicySource};
use serde_json::{Value, json};

use crate::authn::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::ops::RequestCtx;
use crate::protocol::generated::sts::{
    DecodeAuthorizationMessageRequest, DecodeAuthorizationMessageResponse,
};
use crate::secrets::MasterKey;

/// The model's limit on `EncodedMessage`.
const MAX_ENCODED_LEN: usize = 10_240;

/// The largest JSON that still encodes within [`MAX_ENCODED_LEN`]: base64
/// of (format byte + nonce + JSON + tag).
const MAX_JSON_LEN: usize = MAX_ENCODED_LEN / 4 * 3 - 1 - 12 - 16;

fn context_of(account: &str) -> String {
    format!("sts-authorization-message:{account}")
}

/// What a denial is explained with.
#[derive(Debug)]
pub struct Denial<'a> {
    pub caller: &'a Caller,
    pub explanation: &'a policy::Explanation,
    pub context: &'a Context,
}

/// The encoded message for a denial, or `None` when it cannot be sealed
/// (the denial is then sent without one).
pub fn encode(master: &MasterKey, denial: &Denial<'_>) -> Option<String> {
    let json = decoded_json(denial);
    let sealed = master
        .seal(&context_of(&denial.caller.account_id), json.as_bytes())
        .ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

/// Opens a message made for `account`.
fn decode(master: &MasterKey, account: &str, message: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidAuthorizationMessageException,
            "The error message is invalid or was not issued by this service for this account.",
        )
    };
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(message.trim())
        .map_err(|_| invalid())?;
    let plain = master
        .open(&context_of(account), &sealed)
        .map_err(|_| invalid())?;
    String::from_utf8(plain.to_vec()).map_err(|_| invalid())
}

pub async fn decode_authorization_message(
    ctx: &RequestCtx,
    i: DecodeAuthorizationMessageRequest,
) -> Result<DecodeAuthorizationMessageResponse, ApiError> {
    let decoded = decode(&ctx.state().master_key, ctx.account(), &i.encoded_message)?;
    Ok(DecodeAuthorizationMessageResponse {
        decoded_message: Some(decoded),
    })
}

// ---------------------------------------------------------------------------
// The decoded JSON

/// How much of the explanation goes in; shrunk until the message fits.
#[derive(Clone, Copy)]
struct Limits {
    statements: usize,
    conditions: usize,
    values: usize,
    text: usize,
}

fn decoded_json(d: &Denial<'_>) -> String {
    let mut limits = Limits {
        statements: 20,
        conditions: 40,
        values: 10,
        text: 512,
    };
    loop {
        let text = render(d, limits).to_string();
        if text.len() <= MAX_JSON_LEN || limits.text <= 16 {
            return text;
        }
        limits = Limits {
            statements: limits.statements / 2,
            conditions: limits.conditions / 2,
            values: limits.values.div_ceil(2),
            text: limits.text / 2,
        };
    }
}

fn items(values: Vec<Value>) -> Value {
    json!({ "items": values })
}

/// `text`, cut to `max` characters with a marker.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…(truncated)", text.get(..at).unwrap_or_default()),
        None => text.to_owned(),
    }
}

fn effect_name(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "ALLOW",
        Effect::Deny => "DENY",
    }
}

fn source_name(s: PolicySource) -> &'static str {
    match s {
        PolicySource::Identity => "identity",
        PolicySource::Boundary => "permissionsBoundary",
        PolicySource::Session => "session",
        PolicySource::Scp { .. } => "serviceControlPolicy",
        PolicySource::Resource => "resource",
    }
}

fn statement(s: &policy::StatementInfo, limits: Limits) -> Value {
    json!({
        "statementId": cut(s.sid.as_deref().unwrap_or(&s.index.to_string()), limits.text),
        "effect": effect_name(s.effect),
        "policyId": cut(&s.policy_id, limits.text),
        "policyType": source_name(s.source),
        "statementIndex": s.index,
    })
}

fn render(d: &Denial<'_>, limits: Limits) -> Value {
    let e = d.explanation;
    let matched: Vec<Value> = e
        .deciding
        .iter()
        .take(limits.statements)
        .map(|s| statement(s, limits))
        .collect();
    let not_applied: Vec<Value> = e
        .statements
        .iter()
        .filter(|t| t.mismatch.is_some())
        .take(limits.statements)
        .map(|t| {
            let mut v = statement(&t.statement, limits);
            let reason = match &t.mismatch {
                Some(Mismatch::Principal) => json!({ "element": "Principal" }),
                Some(Mismatch::Resource) => json!({ "element": "Resource" }),
                Some(Mismatch::Condition {
                    operator,
                    key,
                    key_present,
                }) => json!({
                    "element": "Condition",
                    "operator": operator,
                    "key": cut(key, limits.text),
                    "keyPresent": key_present,
                }),
                None => Value::Null,
            };
            if let Some(o) = v.as_object_mut() {
                o.insert("reason".into(), reason);
            }
            v
        })
        .collect();
    let conditions: Vec<Value> = d
        .context
        .keys()
        .take(limits.conditions)
        .map(|key| {
            let values: Vec<Value> = d
                .context
                .get(key)
                .unwrap_or_default()
                .iter()
                .take(limits.values)
                .map(|v| json!({ "value": cut(v.text(), limits.text) }))
                .collect();
            json!({ "key": key, "values": items(values) })
        })
        .collect();
    let principal = json!({
        "id": d.caller.user_id,
        "arn": d.caller.arn,
    });
    let summary = e.to_string();
    json!({
        "allowed": e.decision == Decision::Allow,
        "explicitDeny": e.decision == Decision::ExplicitDeny,
        "matchedStatements": items(matched),
        "failures": items(Vec::new()),
        "context": {
            "principal": principal,
            "action": e.action,
            "resource": cut(&e.resource, limits.text),
            "conditions": items(conditions),
        },
        "portcullis": {
            "statementsNotApplied": items(not_applied),
            "missingContextKeys": e.missing_context_keys.iter().take(limits.conditions).collect::<Vec<_>>(),
            "explanation": cut(&summary, limits.text.saturating_mul(4)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::Identity;
    use portcullis_policy::{ContextType, PolicyKind, PolicySet, Principal, PrincipalKind};

    fn caller(account: &str) -> Caller {
        Caller {
            account_id: account.into(),
            arn: format!("arn:aws:iam::{account}:user/bob"),
            user_id: "AIDAEXAMPLEBOB".into(),
            identity: Identity::User {
                id: "AIDAEXAMPLEBOB".into(),
                name: "bob".into(),
                path: "/".into(),
            },
            access_key_id: "AKIAEXAMPLE".into(),
            session: None,
            policy_key: std::sync::OnceLock::new(),
        }
    }

    fn explained(policy_text: &str, context: &Context) -> policy::Explanation {
        let options = policy::ParseOptions {
            kind: PolicyKind::Identity,
            quota: Some(policy::SizeQuota::Unlimited),
        };
        let doc = policy::parse(policy_text, options).unwrap();
        let p = policy::Policy::compile("p", &doc).unwrap();
        let set = PolicySet::builder().identity(p.into()).build().unwrap();
        let principal = Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/bob");
        policy::explain(
            &set,
            None,
            &policy::Request {
                principal: &principal,
                action: "iam:CreateUser",
                resource: "arn:aws:iam::111122223333:user/x",
                resource_account: None,
                context,
            },
        )
    }

    fn master() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn round_trip_names_the_deciding_statement() {
        let mut context = Context::new();
        context
            .insert("aws:username", ContextType::String, ["bob"])
            .unwrap();
        let e = explained(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoUsers","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
            &context,
        );
        let c = caller("111122223333");
        let message = encode(
            &master(),
            &Denial {
                caller: &c,
                explanation: &e,
                context: &context,
            },
        )
        .unwrap();
        assert!(message.len() <= MAX_ENCODED_LEN);
        let decoded: Value =
            serde_json::from_str(&decode(&master(), "111122223333", &message).unwrap()).unwrap();
        assert_eq!(decoded["allowed"], false);
        assert_eq!(decoded["explicitDeny"], true);
        assert_eq!(
            decoded["matchedStatements"]["items"][0]["statementId"],
            "NoUsers"
        );
        assert_eq!(decoded["context"]["action"], "iam:CreateUser");
        assert_eq!(
            decoded["context"]["conditions"]["items"][0],
            json!({"key": "aws:username", "values": {"items": [{"value": "bob"}]}})
        );
        // Another account, another key, or one changed byte: refused.
        assert!(decode(&master(), "444455556666", &message).is_err());
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(decode(&other, "111122223333", &message).is_err());
        let mut bytes = message.into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let err = decode(&master(), "111122223333", &tampered).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidAuthorizationMessageException);
    }

    #[test]
    fn large_explanations_are_cut_to_fit_the_limit() {
        let mut context = Context::new();
        let big = "x".repeat(4000);
        for n in 0..60 {
            context
                .insert(
                    &format!("aws:PrincipalTag/k{n}"),
                    ContextType::String,
                    [big.as_str()],
                )
                .unwrap();
        }
        let statements: Vec<String> = (0..200)
            .map(|n| {
                format!(
                    r#"{{"Sid":"S{n}","Effect":"Allow","Action":"iam:CreateUser","Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalTag/k{n}":"{}"}}}}}}"#,
                    "y".repeat(50)
                )
            })
            .collect();
        let e = explained(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                statements.join(",")
            ),
            &context,
        );
        let c = caller("111122223333");
        let message = encode(
            &master(),
            &Denial {
                caller: &c,
                explanation: &e,
                context: &context,
            },
        )
        .unwrap();
        assert!(message.len() <= MAX_ENCODED_LEN, "{}", message.len());
        let decoded: Value =
            serde_json::from_str(&decode(&master(), "111122223333", &message).unwrap()).unwrap();
        assert_eq!(decoded["allowed"], false);
        assert!(
            !decoded["portcullis"]["statementsNotApplied"]["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
}
