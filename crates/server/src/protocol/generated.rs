//! Code generated from the AWS API models by `codegen/protocol.py`.

pub mod errors;
pub mod iam;
pub mod sts;

#[cfg(test)]
mod tests {
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
