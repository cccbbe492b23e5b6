//! SAML identity providers: Create/Get/Update/Delete/ListSAMLProvider(s)
//! and their tags. A provider's metadata document names the IdP's
//! `entityID` and signing certificates, which `sts:AssumeRoleWithSAML`
//! checks assertions against (`federation::saml`); it is checked when it
//! is written, so that a provider that could never verify anything is
//! refused up front.

use portcullis_store::model::{self as m, TagTarget};
use time::OffsetDateTime;

use crate::error::{ApiError, store_error};
use crate::federation::saml::parse_metadata;
use crate::ops::{self, RequestCtx, store_tags, ts, wire_tags};
use crate::protocol::generated::iam::*;

/// The metadata's `validUntil`, once the document is known to be usable.
fn checked_metadata(document: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    parse_metadata(document)
        .map(|m| m.valid_until)
        .map_err(|detail| ApiError::invalid_input(format!("Could not parse metadata: {detail}")))
}

/// Encrypted assertions need a private key held by the service, which
/// Portcullis does not manage: said plainly rather than accepted and ignored.
fn refuse_encryption(
    mode: Option<&str>,
    private_key: Option<&crate::protocol::xml::Sensitive>,
) -> Result<(), ApiError> {
    if mode == Some("Required") || private_key.is_some() {
        return Err(ApiError::not_implemented(
            "SAML assertion encryption (AssertionEncryptionMode=Required, AddPrivateKey)",
        ));
    }
    Ok(())
}

pub async fn create_saml_provider(
    ctx: &RequestCtx,
    i: CreateSAMLProviderRequest,
) -> Result<CreateSAMLProviderResponse, ApiError> {
    refuse_encryption(
        i.assertion_encryption_mode.as_deref(),
        i.add_private_key.as_ref(),
    )?;
    let valid_until = checked_metadata(&i.saml_metadata_document)?;
    let tags = store_tags(i.tags.as_deref())?;
    let provider = ctx
        .store()
        .create_saml_provider(
            ctx.account(),
            &m::NewSamlProvider {
                name: i.name,
                metadata_document: i.saml_metadata_document,
                valid_until,
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateSAMLProviderResponse {
        saml_provider_arn: Some(provider.arn),
        tags: (!provider.tags.is_empty()).then(|| wire_tags(&provider.tags)),
    })
}

pub async fn get_saml_provider(
    ctx: &RequestCtx,
    i: GetSAMLProviderRequest,
) -> Result<GetSAMLProviderResponse, ApiError> {
    let p = ctx
        .store()
        .get_saml_provider(ctx.account(), &i.saml_provider_arn)
        .await
        .map_err(store_error)?;
    Ok(GetSAMLProviderResponse {
        create_date: Some(ts(p.create_date)),
        saml_metadata_document: Some(p.metadata_document),
        tags: Some(wire_tags(&p.tags)),
        valid_until: p.valid_until.map(ts),
        ..GetSAMLProviderResponse::default()
    })
}

pub async fn update_saml_provider(
    ctx: &RequestCtx,
    i: UpdateSAMLProviderRequest,
) -> Result<UpdateSAMLProviderResponse, ApiError> {
    refuse_encryption(
        i.assertion_encryption_mode.as_deref(),
        i.add_private_key.as_ref(),
    )?;
    let account = ctx.account();
    match i.saml_metadata_document {
        Some(document) => {
            let valid_until = checked_metadata(&document)?;
            ctx.store()
                .update_saml_provider(account, &i.saml_provider_arn, &document, valid_until)
                .await
                .map_err(store_error)?;
        }
        // Nothing Portcullis keeps changes: the provider must still exist.
        None => {
            ctx.store()
                .get_saml_provider(account, &i.saml_provider_arn)
                .await
                .map_err(store_error)?;
        }
    }
    Ok(UpdateSAMLProviderResponse {
        saml_provider_arn: Some(i.saml_provider_arn),
    })
}

pub async fn delete_saml_provider(
    ctx: &RequestCtx,
    i: DeleteSAMLProviderRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_saml_provider(ctx.account(), &i.saml_provider_arn)
        .await
        .map_err(store_error)
}

pub async fn list_saml_providers(
    ctx: &RequestCtx,
    _i: ListSAMLProvidersRequest,
) -> Result<ListSAMLProvidersResponse, ApiError> {
    let providers = ctx
        .store()
        .list_saml_providers(ctx.account())
        .await
        .map_err(store_error)?;
    Ok(ListSAMLProvidersResponse {
        saml_provider_list: Some(
            providers
                .into_iter()
                .map(|p| SAMLProviderListEntry {
                    arn: Some(p.arn),
                    create_date: Some(ts(p.create_date)),
                    valid_until: p.valid_until.map(ts),
                    ..SAMLProviderListEntry::default()
                })
                .collect(),
        ),
    })
}

pub async fn tag_saml_provider(
    ctx: &RequestCtx,
    i: TagSAMLProviderRequest,
) -> Result<(), ApiError> {
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(
            ctx.account(),
            &TagTarget::SamlProvider(i.saml_provider_arn),
            &tags,
        )
        .await
        .map_err(store_error)
}

pub async fn untag_saml_provider(
    ctx: &RequestCtx,
    i: UntagSAMLProviderRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .untag_resource(
            ctx.account(),
            &TagTarget::SamlProvider(i.saml_provider_arn),
            &i.tag_keys,
        )
        .await
        .map_err(store_error)
}

pub async fn list_saml_provider_tags(
    ctx: &RequestCtx,
    i: ListSAMLProviderTagsRequest,
) -> Result<ListSAMLProviderTagsResponse, ApiError> {
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::SamlProvider(i.saml_provider_arn),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListSAMLProviderTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}
