//! Code generated from the AWS API models by `codegen/protocol.py`.

pub mod errors;
pub mod iam;
pub mod sts;

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy as _;

    use crate::protocol::query::compile_pattern;

    /// Text built from the characters patterns care about: every ASCII
    /// byte, and a few beyond.
    fn texts() -> impl proptest::strategy::Strategy<Value = String> {
        let chars = proptest::prop_oneof![
            8 => (0u8..0x80).prop_map(char::from),
            1 => proptest::sample::select(vec!['é', 'ß', '漢', '🙂', '\u{85}', '\u{a0}']),
        ];
        proptest::collection::vec(chars, 0..12).prop_map(|v| v.into_iter().collect())
    }

    /// Every model pattern, as the service compiles it and as a plain regex.
    static ALL: std::sync::LazyLock<Vec<(crate::protocol::query::Pattern, regex::Regex)>> =
        std::sync::LazyLock::new(|| {
            super::iam::PATTERNS
                .iter()
                .chain(super::sts::PATTERNS)
                .map(|p| (compile_pattern(p), regex::Regex::new(p).unwrap()))
                .collect()
        });

    proptest::proptest! {
        /// Every pattern answers as its regex does, table or not.
        #[test]
        fn patterns_agree_with_their_regex(text in texts()) {
            for (compiled, regex) in ALL.iter() {
                proptest::prop_assert_eq!(
                    compiled.is_match(&text),
                    regex.is_match(&text),
                    "{} on {:?}",
                    regex.as_str(),
                    text
                );
            }
        }
    }

    #[test]
    fn name_patterns_get_a_class_table_and_others_do_not() {
        assert!(compile_pattern("^(?:[0-9A-Za-z_+=,.@-]+)$").has_class());
        assert!(compile_pattern("^(?:[a-z]*)$").has_class());
        assert!(!compile_pattern("^(?:[^a-z]+)$").has_class());
        assert!(!compile_pattern("^(?:[\\u0021-\\u007E]+)$").has_class());
        assert!(!compile_pattern("^(?:[a-z]+[0-9])$").has_class());
        // Nearly every name in the model is checked through a table.
        let with_table = super::iam::PATTERNS
            .iter()
            .filter(|p| compile_pattern(p).has_class())
            .count();
        assert!(with_table >= 5, "{with_table}");
    }

    #[test]
    fn class_tables_decide_at_their_edges() {
        let name = compile_pattern("^(?:[0-9A-Za-z_+=,.@-]+)$");
        assert!(name.is_match("Alice-01+=,.@_"));
        assert!(!name.is_match(""));
        assert!(!name.is_match("a b"));
        assert!(!name.is_match("a/b"));
        assert!(!name.is_match("élodie"));
        assert!(compile_pattern("^(?:[a-c-]*)$").is_match(""));
        assert!(compile_pattern("^(?:[a-c-]*)$").is_match("-a-c"));
        assert!(!compile_pattern("^(?:[a-c-]*)$").is_match("d"));
    }

    #[test]
    fn every_translated_model_pattern_compiles() {
        for pattern in super::iam::PATTERNS.iter().chain(super::sts::PATTERNS) {
            assert!(
                regex::Regex::new(pattern).is_ok(),
                "pattern {pattern} does not compile"
            );
        }
    }
}
