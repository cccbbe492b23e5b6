//! Access keys: Create/Update/Delete/ListAccessKeys, GetAccessKeyLastUsed.
//!
//! The secret is generated here, returned once by CreateAccessKey, and
//! stored only sealed under the master key.

use portcullis_store::ids::{IdKind, new_id};
use portcullis_store::model::{self as m, Ciphertext};

use crate::authz::key_owner;
use crate::error::{ApiError, store_error};
use crate::ops::{self, RequestCtx, ts};
use crate::protocol::generated::iam::*;
use crate::protocol::xml::Sensitive;
use crate::secrets::new_secret_access_key;

fn owner_name(ctx: &RequestCtx, owner: &m::KeyOwner) -> String {
    match owner {
        m::KeyOwner::User(name) => name.clone(),
        // AWS reports root keys with the account's root "user name".
        m::KeyOwner::Root => ctx.account().to_owned(),
    }
}

pub async fn create_access_key(
    ctx: &RequestCtx,
    i: CreateAccessKeyRequest,
) -> Result<CreateAccessKeyResponse, ApiError> {
    let owner = key_owner(ctx.caller(), i.user_name.as_deref())?;
    let id = new_id(IdKind::AccessKey);
    let secret = new_secret_access_key().map_err(|_| ApiError::internal())?;
    let sealed = ctx
        .state()
        .master_key
        .seal(&id, secret.as_bytes())
        .map_err(|_| ApiError::internal())?;
    let key = ctx
        .store()
        .create_access_key(
            ctx.account(),
            &owner,
            &id,
            &Ciphertext::new(sealed),
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateAccessKeyResponse {
        access_key: AccessKey {
            access_key_id: key.access_key_id,
            create_date: Some(ts(key.create_date)),
            secret_access_key: Sensitive(secret.to_string()),
            status: key.status.as_str().to_owned(),
            user_name: owner_name(ctx, &owner),
        },
    })
}

pub async fn update_access_key(
    ctx: &RequestCtx,
    i: UpdateAccessKeyRequest,
) -> Result<(), ApiError> {
    let owner = key_owner(ctx.caller(), i.user_name.as_deref())?;
    let status = m::AccessKeyStatus::parse(&i.status)
        .ok_or_else(|| ApiError::validation(format!("Invalid status {}", i.status)))?;
    ctx.store()
        .update_access_key_status(ctx.account(), &owner, &i.access_key_id, status)
        .await
        .map_err(store_error)
}

pub async fn delete_access_key(
    ctx: &RequestCtx,
    i: DeleteAccessKeyRequest,
) -> Result<(), ApiError> {
    let owner = key_owner(ctx.caller(), i.user_name.as_deref())?;
    ctx.store()
        .delete_access_key(ctx.account(), &owner, &i.access_key_id)
        .await
        .map_err(store_error)
}

pub async fn list_access_keys(
    ctx: &RequestCtx,
    i: ListAccessKeysRequest,
) -> Result<ListAccessKeysResponse, ApiError> {
    let owner = key_owner(ctx.caller(), i.user_name.as_deref())?;
    let page = ctx
        .store()
        .list_access_keys(ctx.account(), &owner, i.marker, ops::max_items(i.max_items))
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    let name = owner_name(ctx, &owner);
    Ok(ListAccessKeysResponse {
        access_key_metadata: page
            .items
            .into_iter()
            .map(|k| AccessKeyMetadata {
                access_key_id: Some(k.access_key_id),
                create_date: Some(ts(k.create_date)),
                status: Some(k.status.as_str().to_owned()),
                user_name: Some(name.clone()),
            })
            .collect(),
        is_truncated,
        marker,
    })
}

pub async fn get_access_key_last_used(
    ctx: &RequestCtx,
    i: GetAccessKeyLastUsedRequest,
) -> Result<GetAccessKeyLastUsedResponse, ApiError> {
    let key = ctx
        .store()
        .get_access_key(ctx.account(), &i.access_key_id)
        .await
        .map_err(store_error)?;
    let last = key.last_used.as_ref();
    Ok(GetAccessKeyLastUsedResponse {
        user_name: Some(
            key.user_name
                .clone()
                .unwrap_or_else(|| ctx.account().to_owned()),
        ),
        access_key_last_used: Some(AccessKeyLastUsed {
            last_used_date: last.map(|l| ts(l.date)),
            service_name: last.map_or_else(|| "N/A".to_owned(), |l| l.service.clone()),
            region: last.map_or_else(|| "N/A".to_owned(), |l| l.region.clone()),
        }),
    })
}
