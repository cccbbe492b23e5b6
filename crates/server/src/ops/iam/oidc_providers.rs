//! OIDC identity providers: Create/Get/Delete/ListOpenIDConnectProviders,
//! their client ids (audiences), thumbprints and tags. A provider is what
//! `sts:AssumeRoleWithWebIdentity` checks a token's issuer, audience and
//! keys against (`federation::oidc`).

use portcullis_store::StoreError;
use portcullis_store::model::{self as m, TagTarget};

use crate::error::{ApiError, store_error};
use crate::ops::{self, RequestCtx, store_tags, ts, wire_tags};
use crate::protocol::generated::iam::*;

/// The URL as IAM accepts it: `https://` then a host, optionally a path;
/// no query or fragment (the OIDC issuer rules).
fn check_url(url: &str) -> Result<(), ApiError> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(ApiError::invalid_input(
            "The URL of the OpenID Connect provider must begin with https://.",
        ));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty()
        || rest.contains('?')
        || rest.contains('#')
        || rest.contains(char::is_whitespace)
    {
        return Err(ApiError::invalid_input(format!(
            "The URL {url} is not a valid OpenID Connect issuer: it needs a host and may not have a query or fragment."
        )));
    }
    Ok(())
}

/// Thumbprints are hex SHA-1 digests of a certificate (the model already
/// checks that they are 40 characters long).
fn check_thumbprints(thumbprints: &[String]) -> Result<(), ApiError> {
    for t in thumbprints {
        if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::invalid_input(format!(
                "Thumbprint {t} is not a 40-character hexadecimal SHA-1 digest."
            )));
        }
    }
    Ok(())
}

pub async fn create_open_id_connect_provider(
    ctx: &RequestCtx,
    i: CreateOpenIDConnectProviderRequest,
) -> Result<CreateOpenIDConnectProviderResponse, ApiError> {
    check_url(&i.url)?;
    let thumbprints = i.thumbprint_list.unwrap_or_default();
    check_thumbprints(&thumbprints)?;
    let tags = store_tags(i.tags.as_deref())?;
    let provider = ctx
        .store()
        .create_oidc_provider(
            ctx.account(),
            &m::NewOidcProvider {
                url: i.url,
                client_ids: i.client_id_list.unwrap_or_default(),
                thumbprints,
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateOpenIDConnectProviderResponse {
        open_id_connect_provider_arn: Some(provider.arn),
        tags: (!provider.tags.is_empty()).then(|| wire_tags(&provider.tags)),
    })
}

pub async fn get_open_id_connect_provider(
    ctx: &RequestCtx,
    i: GetOpenIDConnectProviderRequest,
) -> Result<GetOpenIDConnectProviderResponse, ApiError> {
    let p = ctx
        .store()
        .get_oidc_provider(ctx.account(), &i.open_id_connect_provider_arn)
        .await
        .map_err(store_error)?;
    Ok(GetOpenIDConnectProviderResponse {
        client_id_list: Some(p.client_ids),
        create_date: Some(ts(p.create_date)),
        tags: Some(wire_tags(&p.tags)),
        thumbprint_list: Some(p.thumbprints),
        url: Some(p.url),
        ..GetOpenIDConnectProviderResponse::default()
    })
}

/// Idempotent, as the IAM reference says: deleting a provider that does not
/// exist is not an error.
pub async fn delete_open_id_connect_provider(
    ctx: &RequestCtx,
    i: DeleteOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    match ctx
        .store()
        .delete_oidc_provider(ctx.account(), &i.open_id_connect_provider_arn)
        .await
    {
        Ok(()) | Err(StoreError::NoSuchEntity(_)) => Ok(()),
        Err(e) => Err(store_error(e)),
    }
}

pub async fn list_open_id_connect_providers(
    ctx: &RequestCtx,
    _i: ListOpenIDConnectProvidersRequest,
) -> Result<ListOpenIDConnectProvidersResponse, ApiError> {
    let providers = ctx
        .store()
        .list_oidc_providers(ctx.account())
        .await
        .map_err(store_error)?;
    Ok(ListOpenIDConnectProvidersResponse {
        open_id_connect_provider_list: Some(
            providers
                .into_iter()
                .map(|p| OpenIDConnectProviderListEntry {
                    arn: Some(p.arn),
                    ..OpenIDConnectProviderListEntry::default()
                })
                .collect(),
        ),
    })
}

pub async fn add_client_id_to_open_id_connect_provider(
    ctx: &RequestCtx,
    i: AddClientIDToOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .add_oidc_client_id(ctx.account(), &i.open_id_connect_provider_arn, &i.client_id)
        .await
        .map_err(store_error)
}

pub async fn remove_client_id_from_open_id_connect_provider(
    ctx: &RequestCtx,
    i: RemoveClientIDFromOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .remove_oidc_client_id(ctx.account(), &i.open_id_connect_provider_arn, &i.client_id)
        .await
        .map_err(store_error)
}

pub async fn update_open_id_connect_provider_thumbprint(
    ctx: &RequestCtx,
    i: UpdateOpenIDConnectProviderThumbprintRequest,
) -> Result<(), ApiError> {
    check_thumbprints(&i.thumbprint_list)?;
    ctx.store()
        .update_oidc_thumbprints(
            ctx.account(),
            &i.open_id_connect_provider_arn,
            &i.thumbprint_list,
        )
        .await
        .map_err(store_error)
}

pub async fn tag_open_id_connect_provider(
    ctx: &RequestCtx,
    i: TagOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(
            ctx.account(),
            &TagTarget::OidcProvider(i.open_id_connect_provider_arn),
            &tags,
        )
        .await
        .map_err(store_error)
}

pub async fn untag_open_id_connect_provider(
    ctx: &RequestCtx,
    i: UntagOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .untag_resource(
            ctx.account(),
            &TagTarget::OidcProvider(i.open_id_connect_provider_arn),
            &i.tag_keys,
        )
        .await
        .map_err(store_error)
}

pub async fn list_open_id_connect_provider_tags(
    ctx: &RequestCtx,
    i: ListOpenIDConnectProviderTagsRequest,
) -> Result<ListOpenIDConnectProviderTagsResponse, ApiError> {
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::OidcProvider(i.open_id_connect_provider_arn),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListOpenIDConnectProviderTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_issuers() {
        assert!(check_url("https://token.example.com").is_ok());
        assert!(check_url("https://token.example.com/tenant/1").is_ok());
        assert!(check_url("https://localhost:8443").is_ok());
        for bad in [
            "http://token.example.com",
            "token.example.com",
            "https://",
            "https:///path",
            "https://a.example.com/?x=1",
            "https://a.example.com/#frag",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn thumbprints_are_hex() {
        assert!(
            check_thumbprints(&["990F4193972F2BECF12DDEDA5237F9C952F20D9E".to_owned()]).is_ok()
        );
        assert!(
            check_thumbprints(&["zz0F4193972F2BECF12DDEDA5237F9C952F20D9E".to_owned()]).is_err()
        );
    }
}
