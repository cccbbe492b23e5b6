//! Instance profiles: Create/Get/Delete/ListInstanceProfiles, the one role
//! each may hold, and their tags.

use portcullis_store::model::{self as m, TagTarget};

use crate::error::{ApiError, store_error};
use crate::ops::iam::roles::{RoleDetail, wire_role};
use crate::ops::{self, RequestCtx, store_tags, ts, wire_tags};
use crate::protocol::generated::iam::*;

/// A profile as AWS answers it: its role (listed form) always, tags only
/// where the store filled them (`GetInstanceProfile`, `CreateInstanceProfile`).
pub fn wire_instance_profile(p: &m::InstanceProfile) -> InstanceProfile {
    InstanceProfile {
        arn: p.arn.clone(),
        create_date: ts(p.create_date),
        instance_profile_id: p.id.clone(),
        instance_profile_name: p.name.clone(),
        path: p.path.clone(),
        roles: p
            .roles
            .iter()
            .map(|r| wire_role(r, RoleDetail::Listed))
            .collect(),
        tags: (!p.tags.is_empty()).then(|| wire_tags(&p.tags)),
    }
}

pub async fn create_instance_profile(
    ctx: &RequestCtx,
    i: CreateInstanceProfileRequest,
) -> Result<CreateInstanceProfileResponse, ApiError> {
    let tags = store_tags(i.tags.as_deref())?;
    let profile = ctx
        .store()
        .create_instance_profile(
            ctx.account(),
            &m::NewInstanceProfile {
                name: i.instance_profile_name,
                path: i.path.unwrap_or_else(|| "/".to_owned()),
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateInstanceProfileResponse {
        instance_profile: wire_instance_profile(&profile),
    })
}

pub async fn get_instance_profile(
    ctx: &RequestCtx,
    i: GetInstanceProfileRequest,
) -> Result<GetInstanceProfileResponse, ApiError> {
    let profile = ctx
        .store()
        .get_instance_profile(ctx.account(), &i.instance_profile_name)
        .await
        .map_err(store_error)?;
    Ok(GetInstanceProfileResponse {
        instance_profile: wire_instance_profile(&profile),
    })
}

pub async fn delete_instance_profile(
    ctx: &RequestCtx,
    i: DeleteInstanceProfileRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_instance_profile(ctx.account(), &i.instance_profile_name)
        .await
        .map_err(store_error)
}

pub async fn list_instance_profiles(
    ctx: &RequestCtx,
    i: ListInstanceProfilesRequest,
) -> Result<ListInstanceProfilesResponse, ApiError> {
    let page = ctx
        .store()
        .list_instance_profiles(
            ctx.account(),
            i.path_prefix.as_deref(),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListInstanceProfilesResponse {
        instance_profiles: page.items.iter().map(wire_instance_profile).collect(),
        is_truncated,
        marker,
    })
}

pub async fn add_role_to_instance_profile(
    ctx: &RequestCtx,
    i: AddRoleToInstanceProfileRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .add_role_to_instance_profile(ctx.account(), &i.instance_profile_name, &i.role_name)
        .await
        .map_err(store_error)
}

pub async fn remove_role_from_instance_profile(
    ctx: &RequestCtx,
    i: RemoveRoleFromInstanceProfileRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .remove_role_from_instance_profile(ctx.account(), &i.instance_profile_name, &i.role_name)
        .await
        .map_err(store_error)
}

pub async fn list_instance_profiles_for_role(
    ctx: &RequestCtx,
    i: ListInstanceProfilesForRoleRequest,
) -> Result<ListInstanceProfilesForRoleResponse, ApiError> {
    let page = ctx
        .store()
        .list_instance_profiles_for_role(
            ctx.account(),
            &i.role_name,
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListInstanceProfilesForRoleResponse {
        instance_profiles: page.items.iter().map(wire_instance_profile).collect(),
        is_truncated,
        marker,
    })
}

pub async fn tag_instance_profile(
    ctx: &RequestCtx,
    i: TagInstanceProfileRequest,
) -> Result<(), ApiError> {
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(
            ctx.account(),
            &TagTarget::InstanceProfile(i.instance_profile_name),
            &tags,
        )
        .await
        .map_err(store_error)
}

pub async fn untag_instance_profile(
    ctx: &RequestCtx,
    i: UntagInstanceProfileRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .untag_resource(
            ctx.account(),
            &TagTarget::InstanceProfile(i.instance_profile_name),
            &i.tag_keys,
        )
        .await
        .map_err(store_error)
}

pub async fn list_instance_profile_tags(
    ctx: &RequestCtx,
    i: ListInstanceProfileTagsRequest,
) -> Result<ListInstanceProfileTagsResponse, ApiError> {
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::InstanceProfile(i.instance_profile_name),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListInstanceProfileTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}
