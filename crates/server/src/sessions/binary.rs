//! The binary form of [`SessionClaims`] inside a token (format 2).
//!
//! Tokens are opened on every request whose credentials a node has not
//! cached yet, and JSON decoding was most of that cost (issue 5's goal is a
//! verification under 2 µs). This form is a fixed field order with
//! little-endian integers and length-prefixed UTF-8 strings, so decoding is
//! a single forward pass with one allocation per string. It is never read
//! from anywhere but the inside of an authenticated ciphertext, yet every
//! length is still checked: a malformed body is `Invalid`, never a panic.

use super::{SessionClaims, SessionPolicies, SessionPrincipal, TokenError};

const ROLE: u8 = 0;
const USER: u8 = 1;
const ROOT: u8 = 2;
const FEDERATED_USER: u8 = 3;

/// Encodes `claims`; a string or list longer than 65,535 is refused (no
/// request can make one: AWS's own limits are far below).
pub(super) fn encode(claims: &SessionClaims) -> Result<Vec<u8>, TokenError> {
    let mut w = Writer(Vec::with_capacity(256));
    w.str(&claims.access_key_id)?;
    w.str(&claims.secret)?;
    w.str(&claims.account)?;
    match &claims.principal {
        SessionPrincipal::Role {
            role_id,
            role_name,
            role_path,
            session_name,
        } => {
            w.u8(ROLE);
            w.str(role_id)?;
            w.str(role_name)?;
            w.str(role_path)?;
            w.str(session_name)?;
        }
        SessionPrincipal::User {
            user_id,
            user_name,
            user_path,
        } => {
            w.u8(USER);
            w.str(user_id)?;
            w.str(user_name)?;
            w.str(user_path)?;
        }
        SessionPrincipal::Root => w.u8(ROOT),
        SessionPrincipal::FederatedUser {
            name,
            parent_user_id,
            parent_user_name,
        } => {
            w.u8(FEDERATED_USER);
            w.str(name)?;
            w.str(parent_user_id)?;
            w.str(parent_user_name)?;
        }
    }
    w.i64(claims.issued);
    w.i64(claims.expires);
    match &claims.session_policies {
        None => w.u8(0),
        Some(p) => {
            w.u8(1);
            w.opt_str(p.inline.as_deref())?;
            w.strs(&p.arns)?;
        }
    }
    w.pairs(&claims.tags)?;
    w.strs(&claims.transitive_tag_keys)?;
    match claims.mfa_auth_time {
        None => w.u8(0),
        Some(t) => {
            w.u8(1);
            w.i64(t);
        }
    }
    w.opt_str(claims.source_identity.as_deref())?;
    w.u8(u8::from(claims.chained));
    w.pairs(&claims.context)?;
    Ok(w.0)
}

/// Decodes what [`encode`] wrote; anything else is `Invalid`.
pub(super) fn decode(bytes: &[u8]) -> Result<SessionClaims, TokenError> {
    let mut r = Reader(bytes);
    let access_key_id = r.string()?;
    let secret = r.string()?;
    let account = r.string()?;
    let principal = match r.u8()? {
        ROLE => SessionPrincipal::Role {
            role_id: r.string()?,
            role_name: r.string()?,
            role_path: r.string()?,
            session_name: r.string()?,
        },
        USER => SessionPrincipal::User {
            user_id: r.string()?,
            user_name: r.string()?,
            user_path: r.string()?,
        },
        ROOT => SessionPrincipal::Root,
        FEDERATED_USER => SessionPrincipal::FederatedUser {
            name: r.string()?,
            parent_user_id: r.string()?,
            parent_user_name: r.string()?,
        },
        _ => return Err(TokenError::Invalid),
    };
    let issued = r.i64()?;
    let expires = r.i64()?;
    let session_policies = match r.u8()? {
        0 => None,
        1 => Some(SessionPolicies {
            inline: r.opt_string()?,
            arns: r.strings()?,
        }),
        _ => return Err(TokenError::Invalid),
    };
    let tags = r.pairs()?;
    let transitive_tag_keys = r.strings()?;
    let mfa_auth_time = match r.u8()? {
        0 => None,
        1 => Some(r.i64()?),
        _ => return Err(TokenError::Invalid),
    };
    let source_identity = r.opt_string()?;
    let chained = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(TokenError::Invalid),
    };
    let context = r.pairs()?;
    if !r.0.is_empty() {
        return Err(TokenError::Invalid);
    }
    Ok(SessionClaims {
        access_key_id,
        secret,
        account,
        principal,
        issued,
        expires,
        session_policies,
        tags,
        transitive_tag_keys,
        mfa_auth_time,
        source_identity,
        chained,
        context,
    })
}

/// Where the secret ends in an encoded body (it is the second field), for
/// wiping no more than needed; `None` when the body is too short.
pub(super) fn secret_end(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader(bytes);
    let id = r.len().ok()?;
    r.0 = r.0.get(id..)?;
    let secret = r.len().ok()?;
    let end = 2 + id + 2 + secret;
    (end <= bytes.len()).then_some(end)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn len(&mut self, n: usize) -> Result<(), TokenError> {
        let n = u16::try_from(n).map_err(|_| TokenError::Invalid)?;
        self.0.extend_from_slice(&n.to_le_bytes());
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result<(), TokenError> {
        self.len(s.len())?;
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn opt_str(&mut self, s: Option<&str>) -> Result<(), TokenError> {
        match s {
            None => {
                self.u8(0);
                Ok(())
            }
            Some(s) => {
                self.u8(1);
                self.str(s)
            }
        }
    }

    fn strs(&mut self, list: &[String]) -> Result<(), TokenError> {
        self.len(list.len())?;
        list.iter().try_for_each(|s| self.str(s))
    }

    fn pairs(&mut self, list: &[(String, String)]) -> Result<(), TokenError> {
        self.len(list.len())?;
        list.iter().try_for_each(|(k, v)| {
            self.str(k)?;
            self.str(v)
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(TokenError::Invalid)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, TokenError> {
        Ok(self.take::<1>()?[0])
    }

    fn i64(&mut self) -> Result<i64, TokenError> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn len(&mut self) -> Result<usize, TokenError> {
        Ok(usize::from(u16::from_le_bytes(self.take()?)))
    }

    fn string(&mut self) -> Result<String, TokenError> {
        let n = self.len()?;
        let (text, rest) = self.0.split_at_checked(n).ok_or(TokenError::Invalid)?;
        self.0 = rest;
        std::str::from_utf8(text)
            .map(str::to_owned)
            .map_err(|_| TokenError::Invalid)
    }

    fn opt_string(&mut self) -> Result<Option<String>, TokenError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err(TokenError::Invalid),
        }
    }

    fn strings(&mut self) -> Result<Vec<String>, TokenError> {
        let n = self.len()?;
        // Each string takes at least its 2-byte length: a count the body
        // cannot hold is refused before anything is reserved.
        if n > self.0.len() / 2 {
            return Err(TokenError::Invalid);
        }
        (0..n).map(|_| self.string()).collect()
    }

    fn pairs(&mut self) -> Result<Vec<(String, String)>, TokenError> {
        let n = self.len()?;
        if n > self.0.len() / 4 {
            return Err(TokenError::Invalid);
        }
        (0..n)
            .map(|_| Ok((self.string()?, self.string()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_field() -> SessionClaims {
        SessionClaims {
            access_key_id: "ASIAEXAMPLEEXAMPLE00".into(),
            secret: "s3cr3t/with+chars".into(),
            account: "123456789012".into(),
            principal: SessionPrincipal::Role {
                role_id: "AROAEXAMPLE".into(),
                role_name: "reader".into(),
                role_path: "/a/".into(),
                session_name: "sess".into(),
            },
            issued: 1_700_000_000,
            expires: -5,
            session_policies: Some(SessionPolicies {
                inline: Some(r#"{"Version":"2012-10-17","Statement":[]} é"#.into()),
                arns: vec!["arn:aws:iam::1:policy/p".into(), String::new()],
            }),
            tags: vec![
                ("team".into(), "ünïcode".into()),
                ("k".into(), String::new()),
            ],
            transitive_tag_keys: vec!["team".into()],
            mfa_auth_time: Some(i64::MIN),
            source_identity: Some("alice".into()),
            chained: true,
            context: vec![("ec2:SourceInstanceArn".into(), "arn:x".into())],
        }
    }

    #[test]
    fn every_principal_and_field_round_trips() {
        let mut claims = every_field();
        assert_eq!(decode(&encode(&claims).unwrap()).unwrap(), claims);
        for principal in [
            SessionPrincipal::User {
                user_id: "AIDA".into(),
                user_name: "u".into(),
                user_path: "/".into(),
            },
            SessionPrincipal::Root,
            SessionPrincipal::FederatedUser {
                name: "f".into(),
                parent_user_id: "AIDB".into(),
                parent_user_name: "p".into(),
            },
        ] {
            claims.principal = principal;
            claims.session_policies = None;
            claims.mfa_auth_time = None;
            claims.source_identity = None;
            claims.chained = false;
            assert_eq!(decode(&encode(&claims).unwrap()).unwrap(), claims);
        }
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        let bytes = encode(&every_field()).unwrap();
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "truncated to {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }

    #[test]
    fn the_secret_ends_where_secret_end_says() {
        let claims = every_field();
        let bytes = encode(&claims).unwrap();
        let end = secret_end(&bytes).unwrap();
        let secret = claims.secret.as_bytes();
        assert_eq!(bytes.get(end - secret.len()..end), Some(secret));
        assert_eq!(secret_end(&bytes[..end - 1]), None);
    }

    #[test]
    fn oversized_fields_are_refused_not_truncated() {
        let mut claims = every_field();
        claims.secret = "x".repeat(70_000);
        assert!(encode(&claims).is_err());
    }
}
