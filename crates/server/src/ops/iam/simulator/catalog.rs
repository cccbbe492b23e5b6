//! The resource types each AWS action acts on, from the action catalog in
//! `data/aws-action-catalog/` (compacted from the Service Authorization
//! Reference; see `data/README.md`). The simulator answers with a resource
//! type's ARN template in `EvalResourceName`, as IAM does.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

static CATALOG_JSON: &str =
    include_str!("../../../../../../data/aws-action-catalog/aws-action-catalog.json");

#[derive(Deserialize)]
struct Service {
    #[serde(default)]
    actions: HashMap<String, Action>,
    #[serde(default)]
    resources: HashMap<String, ResourceType>,
}

#[derive(Deserialize)]
struct Action {
    /// Resource type names; a trailing `*` marks a required one.
    #[serde(default)]
    resources: Vec<String>,
}

#[derive(Deserialize)]
struct ResourceType {
    arn: String,
}

/// `service:action` in lower case → the ARN templates of its resource types,
/// in the catalog's order.
static TEMPLATES: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
    let services: HashMap<String, Service> = match serde_json::from_str(CATALOG_JSON) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the embedded action catalog does not parse");
            return HashMap::new();
        }
    };
    let mut out = HashMap::new();
    for (prefix, service) in &services {
        for (name, action) in &service.actions {
            let templates = action
                .resources
                .iter()
                .filter_map(|r| service.resources.get(r.trim_end_matches('*')))
                .map(|r| r.arn.clone())
                .collect();
            out.insert(format!("{prefix}:{name}").to_ascii_lowercase(), templates);
        }
    }
    out
});

/// The ARN template `EvalResourceName` reports for `action` simulated on
/// `resources`: the first of the action's resource types whose template
/// matches one of them, the action's only resource type, or `*` when the
/// action has none (or the simulation is on `*`).
pub fn resource_template(action: &str, resources: &[String]) -> String {
    let star = || "*".to_owned();
    if resources.iter().all(|r| r == "*") {
        return star();
    }
    let Some(templates) = TEMPLATES.get(&action.to_ascii_lowercase()) else {
        return star();
    };
    for resource in resources {
        if let Some(t) = templates.iter().find(|t| template_matches(t, resource)) {
            return t.clone();
        }
    }
    match templates.as_slice() {
        [only] => only.clone(),
        _ => star(),
    }
}

/// Whether `arn` fits `template`, each `${Placeholder}` standing for any
/// text.
fn template_matches(template: &str, arn: &str) -> bool {
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        parts.push(rest.get(..start).unwrap_or_default());
        match rest.get(start..).and_then(|r| r.find('}')) {
            Some(end) => rest = rest.get(start + end + 1..).unwrap_or_default(),
            None => return false,
        }
    }
    parts.push(rest);
    glob_parts(&parts, arn)
}

/// Matches literal `parts` separated by "any text" gaps against `text`.
fn glob_parts(parts: &[&str], text: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = remaining.get(i + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_come_from_the_catalog() {
        assert_eq!(
            resource_template(
                "iam:CreateUser",
                &["arn:aws:iam::123456789012:user/bob".to_owned()]
            ),
            "arn:${Partition}:iam::${Account}:user/${UserNameWithPath}"
        );
        assert_eq!(
            resource_template("s3:GetObject", &["arn:aws:s3:::bucket/key.txt".to_owned()]),
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
        );
    }

    #[test]
    fn actions_without_resource_types_and_star_give_star() {
        let any = ["arn:aws:iam::123456789012:user/bob".to_owned()];
        assert_eq!(resource_template("iam:ListUsers", &any), "*");
        assert_eq!(resource_template("iam:CreateUser", &["*".to_owned()]), "*");
        assert_eq!(resource_template("nosuch:Action", &any), "*");
    }

    #[test]
    fn placeholders_match_any_text_and_literals_must_match() {
        let t = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        assert!(template_matches(t, "arn:aws:s3:::b/k"));
        assert!(!template_matches(t, "arn:aws:s3:::bucket"));
        assert!(!template_matches(t, "arn:aws:iam::1:user/x"));
        assert!(template_matches("abc", "abc"));
        assert!(!template_matches("abc", "abcd"));
    }
}
