//! Wildcard patterns (`*` any run of characters, `?` one character) compiled once,
//! and templates with policy variables (`${aws:username}`, `${*}`, `${key, 'default'}`).
//!
//! Matching never allocates: the common shapes (everything, exact, prefix, suffix)
//! have their own fast path, and the general case walks a token list with the
//! classic single-backtrack algorithm (only the last `*` needs to be retried).

use crate::context::Context;

/// One token of a general pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(Box<str>),
    Star,
    One,
}

/// A compiled wildcard pattern. With `ci` (case-insensitive) the literals are stored
/// ASCII-lowercased and compared ignoring ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    General(Box<[Tok]>),
}

impl Glob {
    /// Compiles `pattern`, where `*` and `?` are wildcards.
    #[cfg(test)]
    pub(crate) fn compile(pattern: &str, ci: bool) -> Self {
        Self::from_tokens(tokenize(pattern), ci)
    }

    /// Classifies a token list into the cheapest matcher.
    pub(crate) fn from_tokens(toks: Vec<Tok>, ci: bool) -> Self {
        let toks = normalize(toks, ci);
        match toks.as_slice() {
            [] => Self::Exact("".into()),
            [Tok::Star] => Self::Any,
            [Tok::Lit(s)] => Self::Exact(s.clone()),
            [Tok::Lit(s), Tok::Star] => Self::Prefix(s.clone()),
            [Tok::Star, Tok::Lit(s)] => Self::Suffix(s.clone()),
            _ => Self::General(toks.into_boxed_slice()),
        }
    }

    pub(crate) fn matches(&self, text: &str, ci: bool) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(s) => eq(text.as_bytes(), s.as_bytes(), ci),
            Self::Prefix(p) => {
                text.len() >= p.len()
                    && text
                        .as_bytes()
                        .get(..p.len())
                        .is_some_and(|t| eq(t, p.as_bytes(), ci))
            }
            Self::Suffix(p) => {
                text.len() >= p.len()
                    && text
                        .as_bytes()
                        .get(text.len() - p.len()..)
                        .is_some_and(|t| eq(t, p.as_bytes(), ci))
            }
            Self::General(toks) => match_tokens(toks, text, ci),
        }
    }
}

fn eq(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Splits a pattern into tokens: `*` and `?` are wildcards, everything else literal.
pub(crate) fn tokenize(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut lit_start = 0;
    for (i, c) in pattern.char_indices() {
        if c == '*' || c == '?' {
            if i > lit_start {
                out.push(Tok::Lit(
                    pattern.get(lit_start..i).unwrap_or_default().into(),
                ));
            }
            out.push(if c == '*' { Tok::Star } else { Tok::One });
            lit_start = i + 1;
        }
    }
    if lit_start < pattern.len() {
        out.push(Tok::Lit(
            pattern.get(lit_start..).unwrap_or_default().into(),
        ));
    }
    out
}

/// Merges adjacent literals and stars, and lowercases for case-insensitive use.
fn normalize(toks: Vec<Tok>, ci: bool) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for t in toks {
        match (out.last_mut(), t) {
            (Some(Tok::Lit(prev)), Tok::Lit(s)) => {
                let mut joined = String::with_capacity(prev.len() + s.len());
                joined.push_str(prev);
                joined.push_str(&s);
                *prev = joined.into();
            }
            (Some(Tok::Star), Tok::Star) => {}
            (_, Tok::Lit(s)) if s.is_empty() => {}
            (_, t) => out.push(t),
        }
    }
    if ci {
        for t in &mut out {
            if let Tok::Lit(s) = t {
                *s = s.to_ascii_lowercase().into();
            }
        }
    }
    out
}

fn char_len(text: &[u8], i: usize) -> usize {
    match text.get(i) {
        Some(b) if *b < 0x80 => 1,
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(_) => 2,
        None => 0,
    }
}

/// Token matching with backtracking to the most recent `*` only: a later `*` can
/// absorb whatever an earlier one would have, so retrying earlier ones is useless.
pub(crate) fn match_tokens(toks: &[Tok], text: &str, ci: bool) -> bool {
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        let advanced = match toks.get(pi) {
            Some(Tok::Star) => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(Tok::One) => {
                if ti < t.len() {
                    ti += char_len(t, ti);
                    pi += 1;
                    true
                } else {
                    false
                }
            }
            Some(Tok::Lit(s)) => {
                let s = s.as_bytes();
                if t.get(ti..ti + s.len()).is_some_and(|w| eq(w, s, ci)) {
                    ti += s.len();
                    pi += 1;
                    true
                } else {
                    false
                }
            }
            None => {
                if ti == t.len() {
                    return true;
                }
                false
            }
        };
        if advanced {
            continue;
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                let next = st + char_len(t, st);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

/// Matches `text` against a pattern written as text, where every `*` and `?` is a
/// wildcard (the compact ARN form). Same algorithm as [`match_tokens`].
pub(crate) fn glob_str(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), text.as_bytes(), false)
}

/// [`glob_str`] on bytes; with `ci`, `pattern` is ASCII-lowercase and `text` is
/// compared ignoring ASCII case (action patterns).
pub(crate) fn glob_bytes(p: &[u8], t: &[u8], ci: bool) -> bool {
    let same = |c: u8, x: u8| c == x || (ci && c == x.to_ascii_lowercase());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        match p.get(pi) {
            // A final `*` takes whatever is left.
            Some(b'*') if pi + 1 == p.len() => return true,
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(b'?') if ti < t.len() => {
                ti += char_len(t, ti);
                pi += 1;
                continue;
            }
            Some(c) if *c != b'?' && t.get(ti).is_some_and(|x| same(*c, *x)) => {
                pi += 1;
                ti += 1;
                continue;
            }
            None if ti == t.len() => return true,
            _ => {}
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                let next = st + char_len(t, st);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

// ---------------------------------------------------------------------------
// Templates with policy variables

/// A token of a string that may hold policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TTok {
    Tok(Tok),
    /// `${key}` or `${key, 'default'}`; `key` is lowercased (context keys are
    /// case-insensitive).
    Var {
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

/// Splits `s` into template tokens. `wildcards` says whether bare `*`/`?` are
/// wildcards (StringLike, ARNs) or literal (StringEquals). `${*}`, `${?}` and `${$}`
/// always give the literal character. Malformed `${` is literal text.
pub(crate) fn parse_template(s: &str, wildcards: bool) -> Vec<TTok> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${")
            && let Some((var, len)) = parse_var(after)
        {
            match var {
                Var::Literal(c) => lit.push(c),
                Var::Key { key, default } => {
                    flush(&mut lit, &mut out);
                    out.push(TTok::Var { key, default });
                }
            }
            rest = after.get(len..).unwrap_or_default();
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        if wildcards && (c == '*' || c == '?') {
            flush(&mut lit, &mut out);
            out.push(TTok::Tok(if c == '*' { Tok::Star } else { Tok::One }));
        } else {
            lit.push(c);
        }
        rest = chars.as_str();
    }
    flush(&mut lit, &mut out);
    out
}

fn flush(lit: &mut String, out: &mut Vec<TTok>) {
    if !lit.is_empty() {
        out.push(TTok::Tok(Tok::Lit(std::mem::take(lit).into())));
    }
}

enum Var {
    Literal(char),
    Key {
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

/// Parses what follows `${`; returns the variable and the length consumed
/// (through the closing `}`).
fn parse_var(s: &str) -> Option<(Var, usize)> {
    // Special characters.
    for (text, c) in [("*}", '*'), ("?}", '?'), ("$}", '$')] {
        if s.starts_with(text) {
            return Some((Var::Literal(c), 2));
        }
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(b) = bytes.get(i) {
        if *b == b'}' || *b == b',' || *b == b'$' || *b == b'{' {
            break;
        }
        i += 1;
    }
    let key = s.get(..i)?.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    let key: Box<str> = key.to_ascii_lowercase().into();
    match bytes.get(i) {
        Some(b'}') => Some((Var::Key { key, default: None }, i + 1)),
        Some(b',') => {
            // `, 'default'` with '' standing for a quote.
            let rest = s.get(i + 1..)?;
            let trimmed = rest.trim_start();
            let mut pos = i + 1 + (rest.len() - trimmed.len());
            let body = trimmed.strip_prefix('\'')?;
            pos += 1;
            let mut default = String::new();
            let mut chars = body.char_indices().peekable();
            loop {
                let (j, c) = chars.next()?;
                if c == '\'' {
                    if let Some((_, '\'')) = chars.peek() {
                        chars.next();
                        default.push('\'');
                        continue;
                    }
                    pos += j + 1;
                    break;
                }
                default.push(c);
            }
            let after = s.get(pos..)?;
            let trimmed = after.trim_start();
            pos += after.len() - trimmed.len();
            if !trimmed.starts_with('}') {
                return None;
            }
            Some((
                Var::Key {
                    key,
                    default: Some(default.into()),
                },
                pos + 1,
            ))
        }
        _ => None,
    }
}

/// Tokens for a string under Version 2008-10-17 (or none): `${...}` is literal text.
pub(crate) fn parse_template_literal(s: &str, wildcards: bool) -> Vec<TTok> {
    if wildcards {
        tokenize(s).into_iter().map(TTok::Tok).collect()
    } else if s.is_empty() {
        Vec::new()
    } else {
        vec![TTok::Tok(Tok::Lit(s.into()))]
    }
}

/// Whether any token is a variable.
pub(crate) fn has_vars(toks: &[TTok]) -> bool {
    toks.iter().any(|t| matches!(t, TTok::Var { .. }))
}

/// Turns variable-free template tokens into plain tokens.
pub(crate) fn plain_tokens(toks: Vec<TTok>) -> Vec<Tok> {
    toks.into_iter()
        .map(|t| match t {
            TTok::Tok(t) => t,
            TTok::Var { .. } => Tok::Lit("".into()),
        })
        .collect()
}

/// The (lowercase) keys of the variables in `toks`.
pub(crate) fn variable_keys<'t>(toks: &'t [TTok], out: &mut Vec<&'t str>) {
    out.extend(toks.iter().filter_map(|t| match t {
        TTok::Var { key, .. } => Some(&**key),
        TTok::Tok(_) => None,
    }));
}

/// Substitutes the variables from `ctx`. `None` when a variable has no value and no
/// default: per the IAM User Guide such a value matches nothing. A key with several
/// values cannot be substituted either. Substituted text is literal (a `*` in a user
/// name is not a wildcard).
pub(crate) fn resolve(toks: &[TTok], ctx: &Context) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        match t {
            TTok::Tok(t) => out.push(t.clone()),
            TTok::Var { key, default } => {
                let value = match ctx.get_lowercase(key) {
                    Some([one]) => Some(one.text()),
                    _ => None,
                };
                match (value, default) {
                    (Some(v), _) => out.push(Tok::Lit(v.into())),
                    (None, Some(d)) => out.push(Tok::Lit(d.clone())),
                    (None, None) => return None,
                }
            }
        }
    }
    Some(out)
}

/// Concatenates literal tokens (for operators without wildcards).
pub(crate) fn literal_text(toks: &[Tok]) -> String {
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Lit(l) => s.push_str(l),
            Tok::Star => s.push('*'),
            Tok::One => s.push('?'),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::compile(p, false).matches(t, false)
    }

    #[test]
    fn glob_shapes() {
        assert!(matches!(Glob::compile("*", false), Glob::Any));
        assert!(matches!(Glob::compile("**", false), Glob::Any));
        assert!(matches!(Glob::compile("ab*", false), Glob::Prefix(_)));
        assert!(matches!(Glob::compile("*ab", false), Glob::Suffix(_)));
        assert!(matches!(Glob::compile("a*b", false), Glob::General(_)));
    }

    #[test]
    fn glob_matching() {
        assert!(m("a*b", "ab"));
        assert!(m("a*b", "axxb"));
        assert!(!m("a*b", "axxbc"));
        assert!(m("a?c", "abc"));
        assert!(m("a?c", "aéc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*a*a*a", "aaaa"));
        assert!(!m("*a*a*a*b", "aaaaaaaa"));
        assert!(m("x*y*z", "x/y:z"));
        assert!(!m("abc", "ABC"));
        assert!(Glob::compile("S3:Get*", true).matches("s3:getobject", true));
        assert!(m("", ""));
        assert!(!m("?", ""));
    }

    #[test]
    fn templates() {
        let t = parse_template("home/${aws:username}/*", true);
        assert_eq!(t.len(), 4);
        assert!(matches!(&t[1], TTok::Var { key, default: None } if &**key == "aws:username"));
        let t = parse_template("a${*}b${?}${$}", true);
        assert_eq!(t, vec![TTok::Tok(Tok::Lit("a*b?$".into()))]);
        let t = parse_template("${aws:PrincipalTag/team, 'it''s'}", false);
        assert_eq!(
            t,
            vec![TTok::Var {
                key: "aws:principaltag/team".into(),
                default: Some("it's".into())
            }]
        );
        let t = parse_template("${unterminated", false);
        assert_eq!(t, vec![TTok::Tok(Tok::Lit("${unterminated".into()))]);
        let t = parse_template("a*b", false);
        assert_eq!(t, vec![TTok::Tok(Tok::Lit("a*b".into()))]);
    }

    proptest::proptest! {
        /// The text matcher of compact ARNs and the token matcher agree, and both
        /// agree with a naive recursive matcher.
        #[test]
        fn matchers_agree(p in "[ab*?/:é]{0,8}", t in "[ab/:é]{0,10}") {
            fn naive(p: &[char], t: &[char]) -> bool {
                match p.split_first() {
                    None => t.is_empty(),
                    Some(('*', rest)) => (0..=t.len()).any(|i| naive(rest, &t[i..])),
                    Some(('?', rest)) => !t.is_empty() && naive(rest, &t[1..]),
                    Some((c, rest)) => t.first() == Some(c) && naive(rest, &t[1..]),
                }
            }
            let expected = naive(&p.chars().collect::<Vec<_>>(), &t.chars().collect::<Vec<_>>());
            proptest::prop_assert_eq!(glob_str(&p, &t), expected);
            proptest::prop_assert_eq!(Glob::compile(&p, false).matches(&t, false), expected);
        }
    }
}
