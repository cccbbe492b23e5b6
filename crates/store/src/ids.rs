//! Unique identifiers in AWS's formats.
//!
//! AWS gives every user, group, role, managed policy and instance profile a unique id: a
//! four-letter prefix naming the kind (`AIDA` user, `AGPA` group, `AROA` role, `ANPA` managed
//! policy, `AIPA` instance profile) followed by 17 upper-case characters; access key ids are
//! `AKIA` followed by 16. Tools and policies tell kinds apart by the prefix (`aws:userid` of a
//! role session is `AROA…:session`), so the prefixes matter. The alphabet is RFC 4648 base32
//! (`A–Z`, `2–7`), which is what AWS ids use and which never contains look-alike `0/O`, `1/I`.
//!
//! Ids are random, never derived from the name: a user deleted and re-created under the same
//! name gets a new id, which is how AWS lets policies tell the two apart.

/// The kinds of entity that carry an AWS-style unique id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// IAM user (`AIDA`).
    User,
    /// IAM group (`AGPA`).
    Group,
    /// IAM role (`AROA`).
    Role,
    /// Customer managed policy (`ANPA`).
    ManagedPolicy,
    /// Instance profile (`AIPA`).
    InstanceProfile,
    /// Long-term access key id (`AKIA`).
    AccessKey,
    /// Temporary (session) access key id (`ASIA`); issued by the server, never stored here.
    TemporaryAccessKey,
}

impl IdKind {
    /// The four-letter prefix AWS uses for this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::User => "AIDA",
            Self::Group => "AGPA",
            Self::Role => "AROA",
            Self::ManagedPolicy => "ANPA",
            Self::InstanceProfile => "AIPA",
            Self::AccessKey => "AKIA",
            Self::TemporaryAccessKey => "ASIA",
        }
    }

    /// Total length of an id of this kind: 20 for access keys, 21 for entities.
    pub fn id_len(self) -> usize {
        match self {
            Self::AccessKey | Self::TemporaryAccessKey => 20,
            _ => 21,
        }
    }

    /// Whether `id` has the shape of an id of this kind (prefix, length, alphabet). Lets the
    /// server reject a malformed access key id before any lookup.
    pub fn matches(self, id: &str) -> bool {
        id.len() == self.id_len()
            && id.starts_with(self.prefix())
            && id.bytes().all(|b| ALPHABET.contains(&b))
    }
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh random id of the given kind.
///
/// 17 base32 characters carry 85 bits (16 carry 80 for access keys): collisions are not a
/// practical concern, and a collision would surface as a primary-key violation, never as two
/// entities sharing an id.
pub fn new_id(kind: IdKind) -> String {
    let mut id = String::with_capacity(kind.id_len());
    id.push_str(kind.prefix());
    while id.len() < kind.id_len() {
        let i = rand::random_range(0..ALPHABET.len());
        // `i` is in range by construction; `get` keeps the no-indexing rule without a panic path.
        if let Some(&c) = ALPHABET.get(i) {
            id.push(char::from(c));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shape() {
        for kind in [
            IdKind::User,
            IdKind::Group,
            IdKind::Role,
            IdKind::ManagedPolicy,
            IdKind::InstanceProfile,
            IdKind::AccessKey,
        ] {
            let id = new_id(kind);
            assert!(kind.matches(&id), "{id}");
            assert!(id.starts_with(kind.prefix()));
        }
        assert_eq!(new_id(IdKind::AccessKey).len(), 20);
        assert_eq!(new_id(IdKind::User).len(), 21);
    }

    #[test]
    fn ids_are_random() {
        assert_ne!(new_id(IdKind::User), new_id(IdKind::User));
    }

    #[test]
    fn matches_rejects_wrong_shapes() {
        assert!(IdKind::AccessKey.matches("AKIAIOSFODNN7EXAMPLE"));
        assert!(!IdKind::AccessKey.matches("AKIAIOSFODNN7EXAMPL"));
        assert!(!IdKind::AccessKey.matches("ASIAIOSFODNN7EXAMPLE"));
        assert!(!IdKind::AccessKey.matches("AKIAIOSFODNN7EXAMPL1"));
        assert!(!IdKind::User.matches("aidaabcdefghijklmnopq"));
    }
}
