//! Access keys, login profiles and virtual MFA devices.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{
    SqlStore, count1, count2, from_u64, lower, opt_time, secs, to_time, to_u64, unique_or,
};
use crate::arn::mfa_arn;
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::model::{
    AccessKey, AccessKeyLastUsed, AccessKeyStatus, Ciphertext, KeyOwner, LoginProfile,
    LoginProfileUpdate, MfaDevice, NewLoginProfile, NewVirtualMfaDevice, PasswordHash,
};
use crate::page::{Page, after_key, encode_marker, fetch_limit, finish};
use crate::store::CredentialStore;

/// AWS's quota of access keys per user (and for the root identity).
pub(crate) const MAX_ACCESS_KEYS: i64 = 2;
/// AWS's quota of MFA devices per user.
pub(crate) const MAX_MFA_DEVICES_PER_USER: i64 = 8;

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    account_id: String,
    user_name: Option<String>,
    status: String,
    create_date: i64,
    last_used_date: Option<i64>,
    last_used_service: Option<String>,
    last_used_region: Option<String>,
}

impl KeyRow {
    fn into_key(self) -> Result<AccessKey> {
        let last_used = match opt_time(self.last_used_date)? {
            Some(date) => Some(AccessKeyLastUsed {
                date,
                service: self.last_used_service.unwrap_or_default(),
                region: self.last_used_region.unwrap_or_default(),
            }),
            None => None,
        };
        Ok(AccessKey {
            access_key_id: self.id,
            account_id: self.account_id,
            user_name: self.user_name,
            status: parse_status(&self.status)?,
            create_date: to_time(self.create_date)?,
            last_used,
        })
    }
}

pub(super) fn parse_status(s: &str) -> Result<AccessKeyStatus> {
    AccessKeyStatus::parse(s)
        .ok_or_else(|| StoreError::backend(format!("corrupt access key status {s:?}")))
}

/// The owner's user id (`None` for root) after checking the user exists.
async fn owner_id(
    conn: &mut AnyConnection,
    account: &str,
    owner: &KeyOwner,
) -> Result<(Option<String>, EntityRef)> {
    Ok(match owner {
        KeyOwner::Root => (None, EntityRef::Account),
        KeyOwner::User(name) => {
            let u = super::users::find(conn, account, name).await?;
            (Some(u.id), EntityRef::User(u.name))
        }
    })
}

fn key_not_found(id: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

async fn keys_of(conn: &mut AnyConnection, account: &str, user_id: Option<&str>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM access_keys WHERE account_id = $1 \
         AND (user_id = $2 OR ($2 IS NULL AND user_id IS NULL))",
    )
    .bind(account)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?)
}

#[derive(sqlx::FromRow)]
pub(super) struct MfaRow {
    serial_number: String,
    account_id: String,
    user_name: Option<String>,
    seed_ciphertext: Vec<u8>,
    create_date: i64,
    enable_date: Option<i64>,
    last_used_step: Option<i64>,
}

impl MfaRow {
    fn into_device(self) -> Result<MfaDevice> {
        Ok(MfaDevice {
            serial_number: self.serial_number,
            account_id: self.account_id,
            user_name: self.user_name,
            seed_ciphertext: Ciphertext::new(self.seed_ciphertext),
            create_date: to_time(self.create_date)?,
            enable_date: opt_time(self.enable_date)?,
            last_used_step: self.last_used_step.map(to_u64).transpose()?,
            tags: Vec::new(),
        })
    }
}

fn mfa_not_found(serial: &str) -> StoreError {
    StoreError::NoSuchEntity(format!(
        "VirtualMFADevice with serial number {serial} doesn't exist."
    ))
}

/// An MFA device of the account by serial number, or `NoSuchEntity`.
pub(super) async fn find_mfa(
    conn: &mut AnyConnection,
    account: &str,
    serial: &str,
) -> Result<MfaRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        mfa_cols!(),
        " FROM mfa_devices m LEFT JOIN iam_users u ON u.id = m.user_id \
         WHERE m.account_id = $1 AND m.serial_number = $2"
    ))
    .bind(account)
    .bind(serial)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| mfa_not_found(serial))
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    password_hash: String,
    password_reset_required: i64,
    create_date: i64,
    password_changed: i64,
}

fn profile_not_found(user: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("Login Profile for User {user} cannot be found."))
}

#[async_trait]
impl CredentialStore for SqlStore {
    async fn create_access_key(
        &self,
        account: &str,
        owner: &KeyOwner,
        access_key_id: &str,
        secret_ciphertext: &Ciphertext,
        now: OffsetDateTime,
    ) -> Result<AccessKey> {
        let mut w = self.begin_change(account).await?;
        let (user_id, entity) = owner_id(&mut w, account, owner).await?;
        // Serialised per account (see the module docs of `sql`), so this count cannot race.
        if keys_of(&mut w, account, user_id.as_deref()).await? >= MAX_ACCESS_KEYS {
            return Err(StoreError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"
            )));
        }
        sqlx::query(
            "INSERT INTO access_keys (id, account_id, user_id, status, secret_ciphertext, create_date) \
             VALUES ($1, $2, $3, 'Active', $4, $5)",
        )
        .bind(access_key_id)
        .bind(account)
        .bind(user_id.as_deref())
        .bind(secret_ciphertext.as_bytes())
        .bind(secs(now))
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || {
                StoreError::EntityAlreadyExists(format!("Access key {access_key_id} already exists."))
            })
        })?;
        let key = AccessKey {
            access_key_id: access_key_id.to_owned(),
            account_id: account.to_owned(),
            user_name: match owner {
                KeyOwner::Root => None,
                KeyOwner::User(_) => match &entity {
                    EntityRef::User(name) => Some(name.clone()),
                    _ => None,
                },
            },
            status: AccessKeyStatus::Active,
            create_date: to_time(secs(now))?,
            last_used: None,
        };
        self.commit(
            w,
            ChangeKind::Created,
            EntityRef::AccessKey(access_key_id.to_owned()),
        )
        .await?;
        Ok(key)
    }

    async fn update_access_key_status(
        &self,
        account: &str,
        owner: &KeyOwner,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (user_id, _) = owner_id(&mut w, account, owner).await?;
        let done = sqlx::query(
            "UPDATE access_keys SET status = $1 WHERE id = $2 AND account_id = $3 \
             AND (user_id = $4 OR ($4 IS NULL AND user_id IS NULL))",
        )
        .bind(status.as_str())
        .bind(access_key_id)
        .bind(account)
        .bind(user_id.as_deref())
        .execute(&mut *w)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(key_not_found(access_key_id));
        }
        self.commit(
            w,
            ChangeKind::Updated,
            EntityRef::AccessKey(access_key_id.to_owned()),
        )
        .await
    }

    async fn delete_access_key(
        &self,
        account: &str,
        owner: &KeyOwner,
        access_key_id: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (user_id, _) = owner_id(&mut w, account, owner).await?;
        let done = sqlx::query(
            "DELETE FROM access_keys WHERE id = $1 AND account_id = $2 \
             AND (user_id = $3 OR ($3 IS NULL AND user_id IS NULL))",
        )
        .bind(access_key_id)
        .bind(account)
        .bind(user_id.as_deref())
        .execute(&mut *w)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(key_not_found(access_key_id));
        }
        self.commit(
            w,
            ChangeKind::Deleted,
            EntityRef::AccessKey(access_key_id.to_owned()),
        )
        .await
    }

    async fn list_access_keys(
        &self,
        account: &str,
        owner: &KeyOwner,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<AccessKey>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let (user_id, _) = owner_id(&mut tx, account, owner).await?;
        let rows: Vec<KeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            key_cols!(),
            " FROM access_keys k LEFT JOIN iam_users u ON u.id = k.user_id \
             WHERE k.account_id = $1 AND (k.user_id = $2 OR ($2 IS NULL AND k.user_id IS NULL)) \
             AND ($3 IS NULL OR k.id > $3) ORDER BY k.id LIMIT $4"
        ))
        .bind(account)
        .bind(user_id.as_deref())
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let keys = rows
            .into_iter()
            .map(KeyRow::into_key)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(keys, max_items, |k| {
            encode_marker(&[&k.access_key_id])
        }))
    }

    async fn get_access_key(&self, account: &str, access_key_id: &str) -> Result<AccessKey> {
        let row: Option<KeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            key_cols!(),
            " FROM access_keys k LEFT JOIN iam_users u ON u.id = k.user_id \
             WHERE k.account_id = $1 AND k.id = $2"
        ))
        .bind(account)
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| key_not_found(access_key_id))?.into_key()
    }

    async fn record_access_key_use(
        &self,
        access_key_id: &str,
        now: OffsetDateTime,
        service: &str,
        region: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE access_keys SET last_used_date = $1, last_used_service = $2, last_used_region = $3 WHERE id = $4",
        )
        .bind(secs(now))
        .bind(service)
        .bind(region)
        .bind(access_key_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 0 {
            Err(key_not_found(access_key_id))
        } else {
            Ok(())
        }
    }

    async fn create_login_profile(
        &self,
        account: &str,
        user: &str,
        profile: &NewLoginProfile,
        now: OffsetDateTime,
    ) -> Result<LoginProfile> {
        let mut w = self.begin_change(account).await?;
        let u = super::users::find(&mut w, account, user).await?;
        sqlx::query(
            "INSERT INTO login_profiles (user_id, password_hash, password_reset_required, create_date, \
             password_changed) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&u.id)
        .bind(profile.password_hash.expose())
        .bind(i64::from(profile.password_reset_required))
        .bind(secs(now))
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || StoreError::EntityAlreadyExists(format!("Login Profile for user {} already exists.", u.name)))
        })?;
        let created = LoginProfile {
            user_name: u.name.clone(),
            password_hash: profile.password_hash.clone(),
            password_reset_required: profile.password_reset_required,
            create_date: to_time(secs(now))?,
            password_changed: to_time(secs(now))?,
        };
        self.commit(w, ChangeKind::Updated, EntityRef::User(u.name))
            .await?;
        Ok(created)
    }

    async fn get_login_profile(&self, account: &str, user: &str) -> Result<LoginProfile> {
        let mut tx = self.begin_read().await?;
        let u = super::users::find(&mut tx, account, user).await?;
        let row: Option<ProfileRow> = sqlx::query_as(
            "SELECT password_hash, password_reset_required, create_date, password_changed \
             FROM login_profiles WHERE user_id = $1",
        )
        .bind(&u.id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let row = row.ok_or_else(|| profile_not_found(&u.name))?;
        Ok(LoginProfile {
            user_name: u.name,
            password_hash: PasswordHash::new(row.password_hash),
            password_reset_required: row.password_reset_required != 0,
            create_date: to_time(row.create_date)?,
            password_changed: to_time(row.password_changed)?,
        })
    }

    async fn update_login_profile(
        &self,
        account: &str,
        user: &str,
        update: &LoginProfileUpdate,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let u = super::users::find(&mut w, account, user).await?;
        let done = sqlx::query(
            "UPDATE login_profiles SET \
             password_hash = COALESCE($1, password_hash), \
             password_changed = CASE WHEN $1 IS NULL THEN password_changed ELSE $2 END, \
             password_reset_required = COALESCE($3, password_reset_required) \
             WHERE user_id = $4",
        )
        .bind(update.password_hash.as_ref().map(PasswordHash::expose))
        .bind(secs(now))
        .bind(update.password_reset_required.map(i64::from))
        .bind(&u.id)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(profile_not_found(&u.name));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::User(u.name))
            .await
    }

    async fn delete_login_profile(&self, account: &str, user: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let u = super::users::find(&mut w, account, user).await?;
        let done = sqlx::query("DELETE FROM login_profiles WHERE user_id = $1")
            .bind(&u.id)
            .execute(&mut *w)
            .await?
            .rows_affected();
        if done == 0 {
            return Err(profile_not_found(&u.name));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::User(u.name))
            .await
    }

    async fn record_password_use(
        &self,
        account: &str,
        user: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE iam_users SET password_last_used = $1 WHERE account_id = $2 AND name_lower = $3")
            .bind(secs(now))
            .bind(account)
            .bind(lower(user))
            .execute(&self.pool)
            .await?
            .rows_affected();
        if done == 0 {
            Err(super::users::not_found(user))
        } else {
            Ok(())
        }
    }

    async fn create_virtual_mfa_device(
        &self,
        account: &str,
        device: &NewVirtualMfaDevice,
        now: OffsetDateTime,
    ) -> Result<MfaDevice> {
        let mut w = self.begin_change(account).await?;
        let serial = mfa_arn(account, &device.path, &device.name);
        sqlx::query(
            "INSERT INTO mfa_devices (serial_number, account_id, name_lower, seed_ciphertext, create_date) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&serial)
        .bind(account)
        .bind(lower(&device.name))
        .bind(device.seed_ciphertext.as_bytes())
        .bind(secs(now))
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || {
                StoreError::EntityAlreadyExists("MFADevice entity at the same path and name already exists.".into())
            })
        })?;
        super::tags::put(&mut w, account, "mfa", &serial, &device.tags).await?;
        let mut created = find_mfa(&mut w, account, &serial).await?.into_device()?;
        created.tags = super::tags::load(&mut w, "mfa", &serial).await?;
        self.commit(w, ChangeKind::Created, EntityRef::MfaDevice(serial))
            .await?;
        Ok(created)
    }

    async fn get_mfa_device(&self, account: &str, serial_number: &str) -> Result<MfaDevice> {
        let mut tx = self.begin_read().await?;
        let mut device = find_mfa(&mut tx, account, serial_number)
            .await?
            .into_device()?;
        device.tags = super::tags::load(&mut tx, "mfa", serial_number).await?;
        tx.commit().await?;
        Ok(device)
    }

    async fn enable_mfa_device(
        &self,
        account: &str,
        user: &str,
        serial_number: &str,
        last_used_step: u64,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let u = super::users::find(&mut w, account, user).await?;
        let device = find_mfa(&mut w, account, serial_number).await?;
        if device.user_name.is_some() {
            return Err(StoreError::EntityAlreadyExists(
                "MFA Device is already in use.".into(),
            ));
        }
        if count1(
            &mut w,
            "SELECT count(*) FROM mfa_devices WHERE user_id = $1",
            &u.id,
        )
        .await?
            >= MAX_MFA_DEVICES_PER_USER
        {
            return Err(StoreError::LimitExceeded(format!(
                "Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES_PER_USER}"
            )));
        }
        sqlx::query(
            "UPDATE mfa_devices SET user_id = $1, enable_date = $2, last_used_step = $3 WHERE serial_number = $4",
        )
        .bind(&u.id)
        .bind(secs(now))
        .bind(from_u64(last_used_step)?)
        .bind(serial_number)
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::User(u.name))
            .await
    }

    async fn deactivate_mfa_device(
        &self,
        account: &str,
        user: &str,
        serial_number: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let u = super::users::find(&mut w, account, user).await?;
        let done = sqlx::query(
            "UPDATE mfa_devices SET user_id = NULL, enable_date = NULL \
             WHERE serial_number = $1 AND account_id = $2 AND user_id = $3",
        )
        .bind(serial_number)
        .bind(account)
        .bind(&u.id)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "MFA Device with serial number {serial_number} is not enabled for user {}.",
                u.name
            )));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::User(u.name))
            .await
    }

    async fn delete_virtual_mfa_device(&self, account: &str, serial_number: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let device = find_mfa(&mut w, account, serial_number).await?;
        if device.user_name.is_some() {
            return Err(StoreError::DeleteConflict(
                "MFA device is still in use.".into(),
            ));
        }
        super::tags::delete_all(&mut w, "mfa", serial_number).await?;
        sqlx::query("DELETE FROM mfa_devices WHERE serial_number = $1")
            .bind(serial_number)
            .execute(&mut *w)
            .await?;
        self.commit(
            w,
            ChangeKind::Deleted,
            EntityRef::MfaDevice(serial_number.to_owned()),
        )
        .await
    }

    async fn list_mfa_devices(
        &self,
        account: &str,
        user: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<MfaDevice>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let u = super::users::find(&mut tx, account, user).await?;
        let rows: Vec<MfaRow> = sqlx::query_as(concat!(
            "SELECT ",
            mfa_cols!(),
            " FROM mfa_devices m LEFT JOIN iam_users u ON u.id = m.user_id \
             WHERE m.user_id = $1 AND ($2 IS NULL OR m.serial_number > $2) ORDER BY m.serial_number LIMIT $3"
        ))
        .bind(&u.id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let devices = rows
            .into_iter()
            .map(MfaRow::into_device)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(devices, max_items, |d| {
            encode_marker(&[&d.serial_number])
        }))
    }

    async fn list_virtual_mfa_devices(
        &self,
        account: &str,
        assigned: Option<bool>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<MfaDevice>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let rows: Vec<MfaRow> = sqlx::query_as(concat!(
            "SELECT ",
            mfa_cols!(),
            " FROM mfa_devices m LEFT JOIN iam_users u ON u.id = m.user_id \
             WHERE m.account_id = $1 \
             AND ($2 IS NULL OR ($2 = 1 AND m.user_id IS NOT NULL) OR ($2 = 0 AND m.user_id IS NULL)) \
             AND ($3 IS NULL OR m.serial_number > $3) ORDER BY m.serial_number LIMIT $4"
        ))
        .bind(account)
        .bind(assigned.map(i64::from))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let devices = rows
            .into_iter()
            .map(MfaRow::into_device)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(devices, max_items, |d| {
            encode_marker(&[&d.serial_number])
        }))
    }

    async fn consume_mfa_step(
        &self,
        account: &str,
        serial_number: &str,
        step: u64,
    ) -> Result<bool> {
        let step = from_u64(step)?;
        // One conditional UPDATE: the row is only changed when the step is newer, so of two
        // concurrent uses of the same code exactly one sees rows_affected = 1.
        let done = sqlx::query(
            "UPDATE mfa_devices SET last_used_step = $1 WHERE account_id = $2 AND serial_number = $3 \
             AND (last_used_step IS NULL OR last_used_step < $1)",
        )
        .bind(step)
        .bind(account)
        .bind(serial_number)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 1 {
            return Ok(true);
        }
        let exists = count2(
            &mut *self.pool.acquire().await?,
            "SELECT count(*) FROM mfa_devices WHERE account_id = $1 AND serial_number = $2",
            account,
            serial_number,
        )
        .await?;
        if exists == 0 {
            Err(mfa_not_found(serial_number))
        } else {
            Ok(false)
        }
    }
}
