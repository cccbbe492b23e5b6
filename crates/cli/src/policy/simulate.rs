//! `portcullis policy simulate`: SimulateCustomPolicy offline.
//!
//! The JSON input is turned into the Query parameters the AWS CLI would
//! send and decoded by the service's generated decoder, so the model's
//! validation (lengths, patterns, required members) answers exactly as the
//! API does; the decoded request then goes to the service's simulator
//! (`simulator::custom::simulate_custom`), the same function the API
//! handler calls. Like the AWS CLI, pages are fetched until the end
//! (`MaxItems` and `Marker` of the input are ignored) and the output is
//! `{"EvaluationResults": [...]}`.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use portcullis_policy::Explanation;
use portcullis_server::config::DEFAULT_ACCOUNT_ID;
use portcullis_server::error::ApiError;
use portcullis_server::ops::iam::simulator::custom::{self, CustomSimulation};
use portcullis_server::protocol::generated::iam::{
    EvaluationResult, ResourceSpecificResult, SimulateCustomPolicyRequest, Statement,
};
use portcullis_server::protocol::query::{Decoder, QueryParams};
use serde_json::{Map, Value, json};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The request as JSON (`aws iam simulate-custom-policy
    /// --cli-input-json` format), or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// The calling account: the simulated principal's when the input has
    /// no CallerArn (decides which resources are in the same account).
    #[arg(long, default_value = DEFAULT_ACCOUNT_ID, value_parser = parse_account)]
    account: String,
    /// After the JSON, explain each decision statement by statement.
    #[arg(long)]
    explain: bool,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("an account id is 12 digits".to_owned())
    }
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.input)?;
    let input: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", args.input.display()))?;
    let params = match query_params(&input) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("\nParameter validation failed:\n{msg}");
            return Ok(ExitCode::from(2));
        }
    };
    let sim = match simulate(&params, &args.account) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!(
                "\nAn error occurred ({}) when calling the SimulateCustomPolicy operation: {}",
                e.code().as_str(),
                e.message()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let results: Vec<Value> = sim.results.iter().map(evaluation_result).collect();
    let mut out = std::io::stdout().lock();
    let text = serde_json::to_string_pretty(&json!({ "EvaluationResults": results }))
        .context("cannot render JSON")?;
    writeln!(out, "{text}").context("cannot write to stdout")?;
    if args.explain {
        for e in &sim.explanations {
            write!(out, "\n{e}").context("cannot write to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the input from standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// Every page of the answer, as the AWS CLI's paginator gathers them.
struct Simulated {
    results: Vec<EvaluationResult>,
    explanations: Vec<Explanation>,
}

fn simulate(params: &QueryParams, account: &str) -> Result<Simulated, ApiError> {
    let mut d = Decoder::new(params);
    let request = SimulateCustomPolicyRequest::decode(&mut d, "", "");
    let mut request = d.finish(request)?;
    request.max_items = None;
    request.marker = None;
    let mut all = Simulated {
        results: Vec::new(),
        explanations: Vec::new(),
    };
    loop {
        let caller = match &request.caller_arn {
            Some(arn) => Some(custom::offline_caller(arn)?),
            None => None,
        };
        let CustomSimulation {
            response,
            explanations,
        } = custom::simulate_custom(account, caller, request.clone())?;
        all.results
            .extend(response.evaluation_results.into_iter().flatten());
        all.explanations.extend(explanations);
        match response.marker {
            Some(marker) if response.is_truncated == Some(true) => request.marker = Some(marker),
            _ => return Ok(all),
        }
    }
}

// ---------------------------------------------------------------------------
// Input: the CLI's JSON as Query parameters

/// How a member of the input is sent.
#[derive(Clone, Copy)]
enum Shape {
    String,
    Integer,
    StringList,
    /// A list of structures, with their members' shapes.
    StructList(&'static [(&'static str, Shape)]),
}

const CONTEXT_ENTRY: &[(&str, Shape)] = &[
    ("ContextKeyName", Shape::String),
    ("ContextKeyValues", Shape::StringList),
    ("ContextKeyType", Shape::String),
];

const ORGANIZATION_POLICY: &[(&str, Shape)] =
    &[("ServiceControlPolicyInputList", Shape::StringList)];

/// SimulateCustomPolicyRequest's members (the IAM model).
const REQUEST: &[(&str, Shape)] = &[
    ("PolicyInputList", Shape::StringList),
    ("PermissionsBoundaryPolicyInputList", Shape::StringList),
    ("ActionNames", Shape::StringList),
    ("ResourceArns", Shape::StringList),
    ("ResourcePolicy", Shape::String),
    ("ResourceOwner", Shape::String),
    ("CallerArn", Shape::String),
    ("ContextEntries", Shape::StructList(CONTEXT_ENTRY)),
    ("ResourceHandlingOption", Shape::String),
    ("MaxItems", Shape::Integer),
    ("Marker", Shape::String),
    (
        "OrderedOrganizationPolicyInputList",
        Shape::StructList(ORGANIZATION_POLICY),
    ),
];

/// The Query parameters for `input`, or the AWS CLI's kind of message for
/// an unknown member or a value of the wrong type.
fn query_params(input: &Value) -> Result<QueryParams<'static>, String> {
    let mut params = QueryParams::default();
    flatten_struct(&mut params, "", input, REQUEST, "input")?;
    Ok(params)
}

fn flatten_struct(
    params: &mut QueryParams,
    prefix: &str,
    value: &Value,
    members: &[(&str, Shape)],
    what: &str,
) -> Result<(), String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("Invalid type for {what}: expected an object"))?;
    for (name, v) in object {
        let Some((_, shape)) = members.iter().find(|(n, _)| n == name) else {
            let valid: Vec<&str> = members.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "Unknown parameter in {what}: \"{name}\", must be one of: {}",
                valid.join(", ")
            ));
        };
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        flatten(params, &key, v, *shape, &key)?;
    }
    Ok(())
}

fn flatten(
    params: &mut QueryParams,
    key: &str,
    value: &Value,
    shape: Shape,
    what: &str,
) -> Result<(), String> {
    match (shape, value) {
        // The AWS CLI leaves out members given as null.
        (_, Value::Null) => Ok(()),
        (Shape::String, Value::String(s)) => {
            params.insert(key, s.as_str());
            Ok(())
        }
        (Shape::Integer, Value::Number(n)) if n.is_i64() => {
            params.insert(key, n.to_string());
            Ok(())
        }
        (Shape::StringList | Shape::StructList(_), Value::Array(items)) => {
            if items.is_empty() {
                // The Query protocol's empty list.
                params.insert(key, "");
            }
            for (n, item) in items.iter().enumerate() {
                let item_key = format!("{key}.member.{}", n + 1);
                let item_what = format!("{what}[{n}]");
                match shape {
                    Shape::StructList(members) => {
                        flatten_struct(params, &item_key, item, members, &item_what)?;
                    }
                    _ => flatten(params, &item_key, item, Shape::String, &item_what)?,
                }
            }
            Ok(())
        }
        (shape, v) => Err(format!(
            "Invalid type for parameter {what}, value: {v}, valid types: {}",
            match shape {
                Shape::String => "string",
                Shape::Integer => "integer",
                Shape::StringList | Shape::StructList(_) => "list",
            }
        )),
    }
}

// ---------------------------------------------------------------------------
// Output: the JSON the AWS CLI prints (members in the model's order)

fn evaluation_result(r: &EvaluationResult) -> Value {
    let mut o = Map::new();
    o.insert("EvalActionName".into(), json!(r.eval_action_name));
    if let Some(name) = &r.eval_resource_name {
        o.insert("EvalResourceName".into(), json!(name));
    }
    o.insert("EvalDecision".into(), json!(r.eval_decision));
    common(
        &mut o,
        r.matched_statements.as_deref(),
        r.missing_context_values.as_deref(),
    );
    if let Some(d) = &r.organizations_decision_detail {
        let mut m = Map::new();
        if let Some(allowed) = d.allowed_by_organizations {
            m.insert("AllowedByOrganizations".into(), json!(allowed));
        }
        o.insert("OrganizationsDecisionDetail".into(), Value::Object(m));
    }
    boundary_detail(
        &mut o,
        r.permissions_boundary_decision_detail
            .as_ref()
            .map(|d| d.allowed_by_permissions_boundary),
    );
    decision_details(&mut o, r.eval_decision_details.as_deref());
    if let Some(rs) = &r.resource_specific_results {
        let list: Vec<Value> = rs.iter().map(resource_specific).collect();
        o.insert("ResourceSpecificResults".into(), Value::Array(list));
    }
    Value::Object(o)
}

fn resource_specific(r: &ResourceSpecificResult) -> Value {
    let mut o = Map::new();
    o.insert("EvalResourceName".into(), json!(r.eval_resource_name));
    o.insert(
        "EvalResourceDecision".into(),
        json!(r.eval_resource_decision),
    );
    common(
        &mut o,
        r.matched_statements.as_deref(),
        r.missing_context_values.as_deref(),
    );
    decision_details(&mut o, r.eval_decision_details.as_deref());
    boundary_detail(
        &mut o,
        r.permissions_boundary_decision_detail
            .as_ref()
            .map(|d| d.allowed_by_permissions_boundary),
    );
    Value::Object(o)
}

fn common(o: &mut Map<String, Value>, matched: Option<&[Statement]>, missing: Option<&[String]>) {
    if let Some(matched) = matched {
        let list: Vec<Value> = matched.iter().map(statement).collect();
        o.insert("MatchedStatements".into(), Value::Array(list));
    }
    if let Some(missing) = missing {
        o.insert("MissingContextValues".into(), json!(missing));
    }
}

fn boundary_detail(o: &mut Map<String, Value>, detail: Option<Option<bool>>) {
    if let Some(allowed) = detail {
        let mut m = Map::new();
        if let Some(allowed) = allowed {
            m.insert("AllowedByPermissionsBoundary".into(), json!(allowed));
        }
        o.insert("PermissionsBoundaryDecisionDetail".into(), Value::Object(m));
    }
}

fn decision_details(o: &mut Map<String, Value>, details: Option<&[(String, String)]>) {
    if let Some(details) = details {
        let m: Map<String, Value> = details.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        o.insert("EvalDecisionDetails".into(), Value::Object(m));
    }
}

fn statement(s: &Statement) -> Value {
    let mut o = Map::new();
    if let Some(id) = &s.source_policy_id {
        o.insert("SourcePolicyId".into(), json!(id));
    }
    if let Some(t) = &s.source_policy_type {
        o.insert("SourcePolicyType".into(), json!(t));
    }
    for (name, p) in [
        ("StartPosition", &s.start_position),
        ("EndPosition", &s.end_position),
    ] {
        if let Some(p) = p {
            let mut m = Map::new();
            if let Some(line) = p.line {
                m.insert("Line".into(), json!(line));
            }
            if let Some(column) = p.column {
                m.insert("Column".into(), json!(column));
            }
            o.insert(name.into(), Value::Object(m));
        }
    }
    Value::Object(o)
}
