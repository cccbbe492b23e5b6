//! Groups: Create/Get/Update/Delete/ListGroups and memberships.
//!
//! A group is not a principal: it only carries policies for its members,
//! which is why membership changes are authorised as actions on the group
//! (see `authz/actions.rs`). Its inline policies and attachments are in
//! `policies.rs`, with the users'.

use portcullis_store::model as m;

use crate::error::{ApiError, store_error};
use crate::ops::{self, RequestCtx, ts};
use crate::protocol::generated::iam::*;

use super::users::wire_user;

pub fn wire_group(g: &m::Group) -> Group {
    Group {
        arn: g.arn.clone(),
        create_date: ts(g.create_date),
        group_id: g.id.clone(),
        group_name: g.name.clone(),
        path: g.path.clone(),
    }
}

pub async fn create_group(
    ctx: &RequestCtx,
    i: CreateGroupRequest,
) -> Result<CreateGroupResponse, ApiError> {
    let group = ctx
        .store()
        .create_group(
            ctx.account(),
            &m::NewGroup {
                name: i.group_name,
                path: i.path.unwrap_or_else(|| "/".to_owned()),
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateGroupResponse {
        group: wire_group(&group),
    })
}

/// The group and one page of its members (the page is what `Marker` and
/// `MaxItems` apply to).
pub async fn get_group(ctx: &RequestCtx, i: GetGroupRequest) -> Result<GetGroupResponse, ApiError> {
    let group = ctx
        .store()
        .get_group(ctx.account(), &i.group_name)
        .await
        .map_err(store_error)?;
    let page = ctx
        .store()
        .list_group_members(
            ctx.account(),
            &group.name,
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(GetGroupResponse {
        group: wire_group(&group),
        users: page.items.iter().map(|u| wire_user(u, false)).collect(),
        is_truncated,
        marker,
    })
}

pub async fn update_group(ctx: &RequestCtx, i: UpdateGroupRequest) -> Result<(), ApiError> {
    ctx.store()
        .update_group(
            ctx.account(),
            &i.group_name,
            i.new_group_name.as_deref(),
            i.new_path.as_deref(),
        )
        .await
        .map_err(store_error)?;
    Ok(())
}

pub async fn delete_group(ctx: &RequestCtx, i: DeleteGroupRequest) -> Result<(), ApiError> {
    ctx.store()
        .delete_group(ctx.account(), &i.group_name)
        .await
        .map_err(store_error)
}

pub async fn list_groups(
    ctx: &RequestCtx,
    i: ListGroupsRequest,
) -> Result<ListGroupsResponse, ApiError> {
    let page = ctx
        .store()
        .list_groups(
            ctx.account(),
            i.path_prefix.as_deref(),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListGroupsResponse {
        groups: page.items.iter().map(wire_group).collect(),
        is_truncated,
        marker,
    })
}

pub async fn add_user_to_group(ctx: &RequestCtx, i: AddUserToGroupRequest) -> Result<(), ApiError> {
    ctx.store()
        .add_user_to_group(ctx.account(), &i.group_name, &i.user_name)
        .await
        .map_err(store_error)
}

pub async fn remove_user_from_group(
    ctx: &RequestCtx,
    i: RemoveUserFromGroupRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .remove_user_from_group(ctx.account(), &i.group_name, &i.user_name)
        .await
        .map_err(store_error)
}

pub async fn list_groups_for_user(
    ctx: &RequestCtx,
    i: ListGroupsForUserRequest,
) -> Result<ListGroupsForUserResponse, ApiError> {
    let page = ctx
        .store()
        .list_groups_for_user(
            ctx.account(),
            &i.user_name,
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListGroupsForUserResponse {
        groups: page.items.iter().map(wire_group).collect(),
        is_truncated,
        marker,
    })
}
