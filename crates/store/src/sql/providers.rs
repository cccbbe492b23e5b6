//! OIDC and SAML identity providers.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{SqlStore, count1, opt_time, secs, to_time, unique_or};
use crate::arn::{oidc_provider_arn, saml_provider_arn};
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::model::{NewOidcProvider, NewSamlProvider, OidcProvider, SamlProvider};
use crate::store::ProviderStore;

/// AWS's quota of client ids per OIDC provider.
pub(crate) const MAX_CLIENT_IDS: i64 = 100;
/// AWS's quota of thumbprints per OIDC provider.
pub(crate) const MAX_THUMBPRINTS: usize = 5;

#[derive(sqlx::FromRow)]
struct OidcRow {
    arn: String,
    account_id: String,
    url: String,
    create_date: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct SamlRow {
    arn: String,
    account_id: String,
    name: String,
    metadata_document: String,
    create_date: i64,
    valid_until: Option<i64>,
}

impl SamlRow {
    fn into_provider(self) -> Result<SamlProvider> {
        Ok(SamlProvider {
            arn: self.arn,
            account_id: self.account_id,
            name: self.name,
            metadata_document: self.metadata_document,
            create_date: to_time(self.create_date)?,
            valid_until: opt_time(self.valid_until)?,
            tags: Vec::new(),
        })
    }
}

fn oidc_not_found(arn: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn saml_not_found(arn: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("SAMLProvider not found for arn {arn}"))
}

pub(super) async fn find_oidc(conn: &mut AnyConnection, account: &str, arn: &str) -> Result<()> {
    let n = super::count2(
        conn,
        "SELECT count(*) FROM oidc_providers WHERE account_id = $1 AND arn = $2",
        account,
        arn,
    )
    .await?;
    if n == 0 {
        Err(oidc_not_found(arn))
    } else {
        Ok(())
    }
}

pub(super) async fn find_saml(
    conn: &mut AnyConnection,
    account: &str,
    arn: &str,
) -> Result<SamlRow> {
    sqlx::query_as(
        "SELECT arn, account_id, name, metadata_document, create_date, valid_until \
         FROM saml_providers WHERE account_id = $1 AND arn = $2",
    )
    .bind(account)
    .bind(arn)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| saml_not_found(arn))
}

async fn load_oidc(
    conn: &mut AnyConnection,
    row: OidcRow,
    with_tags: bool,
) -> Result<OidcProvider> {
    let client_ids: Vec<String> = sqlx::query_scalar(
        "SELECT client_id FROM oidc_provider_client_ids WHERE provider_arn = $1 ORDER BY position, client_id",
    )
    .bind(&row.arn)
    .fetch_all(&mut *conn)
    .await?;
    let thumbprints: Vec<String> = sqlx::query_scalar(
        "SELECT thumbprint FROM oidc_provider_thumbprints WHERE provider_arn = $1 ORDER BY position",
    )
    .bind(&row.arn)
    .fetch_all(&mut *conn)
    .await?;
    let tags = if with_tags {
        super::tags::load(conn, "oidc-provider", &row.arn).await?
    } else {
        Vec::new()
    };
    Ok(OidcProvider {
        arn: row.arn,
        account_id: row.account_id,
        url: row.url,
        client_ids,
        thumbprints,
        create_date: to_time(row.create_date)?,
        tags,
    })
}

async fn add_client_id(conn: &mut AnyConnection, arn: &str, client_id: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_provider_client_ids (provider_arn, client_id, position) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM oidc_provider_client_ids WHERE provider_arn = $1)) \
         ON CONFLICT DO NOTHING",
    )
    .bind(arn)
    .bind(client_id)
    .execute(&mut *conn)
    .await?;
    if count1(
        conn,
        "SELECT count(*) FROM oidc_provider_client_ids WHERE provider_arn = $1",
        arn,
    )
    .await?
        > MAX_CLIENT_IDS
    {
        return Err(StoreError::LimitExceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )));
    }
    Ok(())
}

async fn set_thumbprints(
    conn: &mut AnyConnection,
    arn: &str,
    thumbprints: &[String],
) -> Result<()> {
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(StoreError::LimitExceeded(format!(
            "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}"
        )));
    }
    sqlx::query("DELETE FROM oidc_provider_thumbprints WHERE provider_arn = $1")
        .bind(arn)
        .execute(&mut *conn)
        .await?;
    for (i, thumbprint) in thumbprints.iter().enumerate() {
        sqlx::query(
            "INSERT INTO oidc_provider_thumbprints (provider_arn, thumbprint, position) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(arn)
        .bind(thumbprint)
        .bind(i64::try_from(i).map_err(StoreError::backend)?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl ProviderStore for SqlStore {
    async fn create_oidc_provider(
        &self,
        account: &str,
        provider: &NewOidcProvider,
        now: OffsetDateTime,
    ) -> Result<OidcProvider> {
        let mut w = self.begin_change(account).await?;
        let url = provider
            .url
            .strip_prefix("https://")
            .unwrap_or(&provider.url)
            .to_owned();
        let arn = oidc_provider_arn(account, &url);
        sqlx::query("INSERT INTO oidc_providers (arn, account_id, url, create_date) VALUES ($1, $2, $3, $4)")
            .bind(&arn)
            .bind(account)
            .bind(&url)
            .bind(secs(now))
            .execute(&mut *w)
            .await
            .map_err(|e| {
                unique_or(e, || StoreError::EntityAlreadyExists(format!("Provider with url https://{url} already exists.")))
            })?;
        for client_id in &provider.client_ids {
            add_client_id(&mut w, &arn, client_id).await?;
        }
        set_thumbprints(&mut w, &arn, &provider.thumbprints).await?;
        super::tags::put(&mut w, account, "oidc-provider", &arn, &provider.tags).await?;
        let row = OidcRow {
            arn: arn.clone(),
            account_id: account.to_owned(),
            url,
            create_date: secs(now),
        };
        let created = load_oidc(&mut w, row, true).await?;
        self.commit(w, ChangeKind::Created, EntityRef::Provider(arn))
            .await?;
        Ok(created)
    }

    async fn get_oidc_provider(&self, account: &str, arn: &str) -> Result<OidcProvider> {
        let mut tx = self.begin_read().await?;
        let row: OidcRow =
            sqlx::query_as("SELECT arn, account_id, url, create_date FROM oidc_providers WHERE account_id = $1 AND arn = $2")
                .bind(account)
                .bind(arn)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| oidc_not_found(arn))?;
        let provider = load_oidc(&mut tx, row, true).await?;
        tx.commit().await?;
        Ok(provider)
    }

    async fn delete_oidc_provider(&self, account: &str, arn: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        find_oidc(&mut w, account, arn).await?;
        super::tags::delete_all(&mut w, "oidc-provider", arn).await?;
        sqlx::query("DELETE FROM oidc_provider_client_ids WHERE provider_arn = $1")
            .bind(arn)
            .execute(&mut *w)
            .await?;
        sqlx::query("DELETE FROM oidc_provider_thumbprints WHERE provider_arn = $1")
            .bind(arn)
            .execute(&mut *w)
            .await?;
        sqlx::query("DELETE FROM oidc_providers WHERE arn = $1")
            .bind(arn)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::Provider(arn.to_owned()))
            .await
    }

    async fn list_oidc_providers(&self, account: &str) -> Result<Vec<OidcProvider>> {
        let mut tx = self.begin_read().await?;
        let rows: Vec<OidcRow> =
            sqlx::query_as("SELECT arn, account_id, url, create_date FROM oidc_providers WHERE account_id = $1 ORDER BY arn")
                .bind(account)
                .fetch_all(&mut *tx)
                .await?;
        let mut providers = Vec::with_capacity(rows.len());
        for row in rows {
            providers.push(load_oidc(&mut tx, row, false).await?);
        }
        tx.commit().await?;
        Ok(providers)
    }

    async fn add_oidc_client_id(&self, account: &str, arn: &str, client_id: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        find_oidc(&mut w, account, arn).await?;
        add_client_id(&mut w, arn, client_id).await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Provider(arn.to_owned()))
            .await
    }

    async fn remove_oidc_client_id(&self, account: &str, arn: &str, client_id: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        find_oidc(&mut w, account, arn).await?;
        sqlx::query(
            "DELETE FROM oidc_provider_client_ids WHERE provider_arn = $1 AND client_id = $2",
        )
        .bind(arn)
        .bind(client_id)
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Provider(arn.to_owned()))
            .await
    }

    async fn update_oidc_thumbprints(
        &self,
        account: &str,
        arn: &str,
        thumbprints: &[String],
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        find_oidc(&mut w, account, arn).await?;
        set_thumbprints(&mut w, arn, thumbprints).await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Provider(arn.to_owned()))
            .await
    }

    async fn create_saml_provider(
        &self,
        account: &str,
        provider: &NewSamlProvider,
        now: OffsetDateTime,
    ) -> Result<SamlProvider> {
        let mut w = self.begin_change(account).await?;
        let arn = saml_provider_arn(account, &provider.name);
        sqlx::query(
            "INSERT INTO saml_providers (arn, account_id, name, metadata_document, create_date, valid_until) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&arn)
        .bind(account)
        .bind(&provider.name)
        .bind(&provider.metadata_document)
        .bind(secs(now))
        .bind(provider.valid_until.map(secs))
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || StoreError::EntityAlreadyExists(format!("SAMLProvider {} already exists.", provider.name)))
        })?;
        super::tags::put(&mut w, account, "saml-provider", &arn, &provider.tags).await?;
        let mut created = find_saml(&mut w, account, &arn).await?.into_provider()?;
        created.tags = super::tags::load(&mut w, "saml-provider", &arn).await?;
        self.commit(w, ChangeKind::Created, EntityRef::Provider(arn))
            .await?;
        Ok(created)
    }

    async fn get_saml_provider(&self, account: &str, arn: &str) -> Result<SamlProvider> {
        let mut tx = self.begin_read().await?;
        let mut provider = find_saml(&mut tx, account, arn).await?.into_provider()?;
        provider.tags = super::tags::load(&mut tx, "saml-provider", arn).await?;
        tx.commit().await?;
        Ok(provider)
    }

    async fn update_saml_provider(
        &self,
        account: &str,
        arn: &str,
        metadata_document: &str,
        valid_until: Option<OffsetDateTime>,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        find_saml(&mut w, account, arn).await?;
        sqlx::query(
            "UPDATE saml_providers SET metadata_document = $1, valid_until = $2 WHERE arn = $3",
        )
        .bind(metadata_document)
        .bind(valid_until.map(secs))
        .bind(arn)
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Provider(arn.to_owned()))
            .await
    }

    async fn delete_saml_provider(&self, account: &str, arn: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        find_saml(&mut w, account, arn).await?;
        super::tags::delete_all(&mut w, "saml-provider", arn).await?;
        sqlx::query("DELETE FROM saml_providers WHERE arn = $1")
            .bind(arn)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::Provider(arn.to_owned()))
            .await
    }

    async fn list_saml_providers(&self, account: &str) -> Result<Vec<SamlProvider>> {
        let rows: Vec<SamlRow> = sqlx::query_as(
            "SELECT arn, account_id, name, metadata_document, create_date, valid_until \
             FROM saml_providers WHERE account_id = $1 ORDER BY arn",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SamlRow::into_provider).collect()
    }
}
