//! Users: Create/Get/Update/Delete/ListUsers and their tags.

use portcullis_store::model::{self as m, TagTarget};

use crate::error::ApiError;
use crate::error::store_error;
use crate::ops::{self, RequestCtx, store_tags, ts, wire_tags};
use crate::protocol::generated::iam::*;

pub fn wire_user(u: &m::User, with_tags: bool) -> User {
    User {
        arn: u.arn.clone(),
        create_date: ts(u.create_date),
        password_last_used: u.password_last_used.map(ts),
        path: u.path.clone(),
        permissions_boundary: u.permissions_boundary.as_ref().map(|arn| {
            AttachedPermissionsBoundary {
                permissions_boundary_arn: Some(arn.clone()),
                permissions_boundary_type: Some("PermissionsBoundaryPolicy".to_owned()),
            }
        }),
        tags: (with_tags && !u.tags.is_empty()).then(|| wire_tags(&u.tags)),
        user_id: u.id.clone(),
        user_name: u.name.clone(),
    }
}

pub async fn create_user(
    ctx: &RequestCtx,
    i: CreateUserRequest,
) -> Result<CreateUserResponse, ApiError> {
    let tags = store_tags(i.tags.as_deref())?;
    if let Some(boundary) = &i.permissions_boundary {
        super::policies::check_boundary_arn(ctx, boundary).await?;
    }
    let user = ctx
        .store()
        .create_user(
            ctx.account(),
            &m::NewUser {
                name: i.user_name,
                path: i.path.unwrap_or_else(|| "/".to_owned()),
                permissions_boundary: i.permissions_boundary,
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateUserResponse {
        user: Some(wire_user(&user, true)),
    })
}

pub async fn get_user(ctx: &RequestCtx, i: GetUserRequest) -> Result<GetUserResponse, ApiError> {
    let user = match (i.user_name, ctx.caller().user_name()) {
        (Some(name), _) => crate::reads::user(ctx.state(), ctx.account(), &name, ctx.now())
            .await
            .map_err(store_error)?,
        (None, Some(own)) => crate::reads::user(ctx.state(), ctx.account(), own, ctx.now())
            .await
            .map_err(store_error)?,
        // Root without UserName: AWS describes the root user itself.
        (None, None) if ctx.caller().is_root() => {
            let account = ctx
                .store()
                .get_account(ctx.account())
                .await
                .map_err(store_error)?;
            return Ok(GetUserResponse {
                user: User {
                    arn: ctx.caller().arn.clone(),
                    create_date: ts(account.create_date),
                    path: "/".to_owned(),
                    user_id: ctx.account().to_owned(),
                    user_name: String::new(),
                    ..User::default()
                },
            });
        }
        (None, None) => {
            return Err(ApiError::validation(
                "Must specify userName when calling with non-User credentials",
            ));
        }
    };
    Ok(GetUserResponse {
        user: wire_user(&user, true),
    })
}

pub async fn update_user(ctx: &RequestCtx, i: UpdateUserRequest) -> Result<(), ApiError> {
    ctx.store()
        .update_user(
            ctx.account(),
            &i.user_name,
            &m::UserUpdate {
                new_name: i.new_user_name,
                new_path: i.new_path,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(())
}

pub async fn delete_user(ctx: &RequestCtx, i: DeleteUserRequest) -> Result<(), ApiError> {
    ctx.store()
        .delete_user(ctx.account(), &i.user_name)
        .await
        .map_err(store_error)
}

pub async fn list_users(
    ctx: &RequestCtx,
    i: ListUsersRequest,
) -> Result<ListUsersResponse, ApiError> {
    let page = ctx
        .store()
        .list_users(
            ctx.account(),
            i.path_prefix.as_deref(),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListUsersResponse {
        users: page.items.iter().map(|u| wire_user(u, false)).collect(),
        is_truncated,
        marker,
    })
}

pub async fn tag_user(ctx: &RequestCtx, i: TagUserRequest) -> Result<(), ApiError> {
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(ctx.account(), &TagTarget::User(i.user_name), &tags)
        .await
        .map_err(store_error)
}

pub async fn untag_user(ctx: &RequestCtx, i: UntagUserRequest) -> Result<(), ApiError> {
    ctx.store()
        .untag_resource(ctx.account(), &TagTarget::User(i.user_name), &i.tag_keys)
        .await
        .map_err(store_error)
}

pub async fn list_user_tags(
    ctx: &RequestCtx,
    i: ListUserTagsRequest,
) -> Result<ListUserTagsResponse, ApiError> {
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::User(i.user_name),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListUserTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}
