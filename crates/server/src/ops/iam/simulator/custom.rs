//! SimulateCustomPolicy without a server: the one implementation that the
//! API handler and `portcullis policy simulate` both call, so that the
//! offline answer is the service's answer.
//!
//! The request comes decoded (the handler's Query decoder, or the CLI's
//! JSON input run through the same decoder); only `CallerArn` needs the
//! store, to add a stored user's id and tags. The handler resolves it
//! there; [`offline_caller`] resolves it as the service does for an entity
//! it does not hold (the ARN's own account, no id, no tags).

use portcullis_policy::Explanation;

use super::engine::{Builder, Entity, EntityKind, Options, anonymous_caller};
use super::engine::{group_caller, role_caller, user_caller};
use crate::error::ApiError;
use crate::protocol::generated::iam::{SimulateCustomPolicyRequest, SimulatePolicyResponse};

pub use super::engine::Caller;

/// What a custom simulation answers.
#[derive(Debug)]
pub struct CustomSimulation {
    /// The API's answer.
    pub response: SimulatePolicyResponse,
    /// The engine's explanation of each (action, resource) pair of the
    /// answer, in answer order (actions, then `ResourceArns` or `*`).
    pub explanations: Vec<Explanation>,
}

/// Runs SimulateCustomPolicy: `account` is the calling account (the
/// principal's when no `CallerArn` is given), `caller` the resolved
/// `CallerArn`.
///
/// # Errors
/// `InvalidInput` for a policy that does not parse, a bad action name,
/// owner, marker or context entry, and a `ResourcePolicy` without a caller,
/// with IAM's messages.
pub fn simulate_custom(
    account: &str,
    caller: Option<Caller>,
    i: SimulateCustomPolicyRequest,
) -> Result<CustomSimulation, ApiError> {
    if i.resource_policy.is_some() && caller.is_none() {
        return Err(ApiError::invalid_input(
            "CallerArn is required when a ResourcePolicy is simulated: the policy's Principal \
             element needs a caller to match.",
        ));
    }
    let mut builder = Builder::new(caller.unwrap_or_else(|| anonymous_caller(account)));
    builder.add_inputs(&i.policy_input_list, "PolicyInputList")?;
    builder.set_boundary_input(i.permissions_boundary_policy_input_list.as_deref())?;
    for (level, org) in i
        .ordered_organization_policy_input_list
        .iter()
        .flatten()
        .enumerate()
    {
        builder.add_scp_level(level, org.service_control_policy_input_list.as_deref())?;
    }
    builder.set_resource_policy(i.resource_policy.as_deref())?;
    let sim = builder.build(i.context_entries.as_deref())?;
    let options = Options {
        actions: i.action_names,
        resources: i.resource_arns,
        resource_owner: i.resource_owner,
        marker: i.marker,
        max_items: i.max_items,
    };
    let (response, explanations) = sim.run(options)?;
    Ok(CustomSimulation {
        response,
        explanations,
    })
}

/// `CallerArn` resolved without a store: an IAM user, group or role of the
/// ARN's account, with the keys its ARN implies and no id or tags (what the
/// service does for an entity it does not hold).
///
/// # Errors
/// `InvalidInput` when `arn` is not the ARN of an IAM user, group or role.
pub fn offline_caller(arn: &str) -> Result<Caller, ApiError> {
    let entity = Entity::parse(arn, "CallerArn")?;
    Ok(match entity.kind {
        EntityKind::User => user_caller(arn, &entity.account, &entity.name, None, &[]),
        EntityKind::Role => role_caller(arn, &entity.account, &[]),
        EntityKind::Group => group_caller(arn, &entity.account),
    })
}
