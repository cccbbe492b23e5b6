//! The sealed columns as one collection: pages of them for a re-seal, and a compare-and-swap
//! that replaces one value only if nobody changed it since it was read.

use async_trait::async_trait;

use super::{SqlStore, from_u64, to_u64};
use crate::change::{ChangeKind, EntityRef};
use crate::error::Result;
use crate::model::{Ciphertext, SealedId, SealedKind, SealedValue};
use crate::store::SealedStore;

#[derive(sqlx::FromRow)]
struct EntityRow {
    id: String,
    account_id: String,
    sealed: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    purpose: String,
    generation: i64,
    material: Vec<u8>,
    retired: i64,
}

#[async_trait]
impl SealedStore for SqlStore {
    async fn list_sealed(
        &self,
        kind: SealedKind,
        after: Option<&SealedId>,
        limit: u32,
    ) -> Result<Vec<SealedValue>> {
        let limit = i64::from(limit.max(1));
        let entities = |rows: Vec<EntityRow>, make: fn(String) -> SealedId| {
            rows.into_iter()
                .map(|r| SealedValue {
                    id: make(r.id),
                    account_id: Some(r.account_id),
                    ciphertext: Ciphertext::new(r.sealed),
                    retired: false,
                })
                .collect()
        };
        // A cursor of another kind would be a caller's bug; starting over is the safe reading.
        Ok(match kind {
            SealedKind::AccessKeySecret => {
                let after = match after {
                    Some(SealedId::AccessKey(id)) => id.as_str(),
                    _ => "",
                };
                let rows: Vec<EntityRow> = sqlx::query_as(
                    "SELECT id, account_id, secret_ciphertext AS sealed FROM access_keys \
                     WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                entities(rows, SealedId::AccessKey)
            }
            SealedKind::MfaSeed => {
                let after = match after {
                    Some(SealedId::MfaDevice(serial)) => serial.as_str(),
                    _ => "",
                };
                let rows: Vec<EntityRow> = sqlx::query_as(
                    "SELECT serial_number AS id, account_id, seed_ciphertext AS sealed \
                     FROM mfa_devices WHERE serial_number > $1 ORDER BY serial_number LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                entities(rows, SealedId::MfaDevice)
            }
            SealedKind::SigningKey => {
                let (purpose, generation) = match after {
                    Some(SealedId::SigningKey {
                        purpose,
                        generation,
                    }) => (purpose.as_str(), from_u64(*generation)?),
                    _ => ("", -1),
                };
                let rows: Vec<KeyRow> = sqlx::query_as(
                    "SELECT purpose, generation, material, \
                     CASE WHEN retire_date IS NULL THEN 0 ELSE 1 END AS retired \
                     FROM signing_keys WHERE purpose > $1 OR (purpose = $1 AND generation > $2) \
                     ORDER BY purpose, generation LIMIT $3",
                )
                .bind(purpose)
                .bind(generation)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        Ok(SealedValue {
                            id: SealedId::SigningKey {
                                purpose: r.purpose,
                                generation: to_u64(r.generation)?,
                            },
                            account_id: None,
                            ciphertext: Ciphertext::new(r.material),
                            retired: r.retired != 0,
                        })
                    })
                    .collect::<Result<_>>()?
            }
        })
    }

    async fn replace_sealed(
        &self,
        id: &SealedId,
        old: &Ciphertext,
        new: &Ciphertext,
    ) -> Result<bool> {
        let (lookup, update, key, entity): (&'static str, &'static str, &str, EntityRef) = match id
        {
            SealedId::AccessKey(key) => (
                "SELECT account_id FROM access_keys WHERE id = $1",
                "UPDATE access_keys SET secret_ciphertext = $1 \
                     WHERE id = $2 AND secret_ciphertext = $3",
                key,
                EntityRef::AccessKey(key.clone()),
            ),
            SealedId::MfaDevice(serial) => (
                "SELECT account_id FROM mfa_devices WHERE serial_number = $1",
                "UPDATE mfa_devices SET seed_ciphertext = $1 \
                     WHERE serial_number = $2 AND seed_ciphertext = $3",
                serial,
                EntityRef::MfaDevice(serial.clone()),
            ),
            SealedId::SigningKey {
                purpose,
                generation,
            } => {
                // Service bookkeeping: no account, no generation (see crate::change).
                let mut tx = self.begin_write().await?;
                let changed = sqlx::query(
                    "UPDATE signing_keys SET material = $1 \
                         WHERE purpose = $2 AND generation = $3 AND material = $4",
                )
                .bind(new.as_bytes())
                .bind(purpose.as_str())
                .bind(from_u64(*generation)?)
                .bind(old.as_bytes())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                tx.commit().await?;
                return Ok(true);
            }
        };
        // A record's account never changes, so reading it before the transaction is safe; the
        // compare-and-swap below is what decides.
        let account: Option<String> = sqlx::query_scalar(lookup)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        let Some(account) = account else {
            return Ok(false);
        };
        let mut w = self.begin_change(&account).await?;
        let changed = sqlx::query(update)
            .bind(new.as_bytes())
            .bind(key)
            .bind(old.as_bytes())
            .execute(&mut *w)
            .await?
            .rows_affected();
        if changed != 1 {
            // Rolled back: neither the generation bump nor its notification happen.
            w.tx.rollback().await?;
            return Ok(false);
        }
        self.commit(w, ChangeKind::Updated, entity).await?;
        Ok(true)
    }
}
