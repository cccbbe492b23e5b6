//! Virtual MFA devices: CreateVirtualMFADevice, Enable/Deactivate/Resync
//! MFADevice, DeleteVirtualMFADevice, List(Virtual)MFADevices, GetMFADevice
//! and their tags. The TOTP itself, and the check STS runs, are in
//! `crate::mfa`.

use std::ops::RangeInclusive;

use portcullis_store::StoreError;
use portcullis_store::model::{self as m, Ciphertext, TagTarget};

use crate::error::{ApiError, ErrorCode, store_error};
use crate::mfa::{Seed, otpauth_uri, qr_png, step_at, window};
use crate::ops::iam::users::wire_user;
use crate::ops::{self, RequestCtx, store_tags, ts, wire_tags};
use crate::protocol::generated::iam::*;
use crate::protocol::xml::Blob;

/// How far from the current step the second code of `EnableMFADevice` may
/// be: a person reads two codes off an app and types them, which takes a
/// while, so a little more than the one step STS allows.
const ENABLE_SKEW: u64 = 2;
/// How far from the current step the second code of `ResyncMFADevice` may
/// be: resynchronising is for a device whose clock drifted (10 steps, five
/// minutes, either way).
const RESYNC_SKEW: u64 = 10;

fn invalid_codes() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidAuthenticationCode,
        "Authentication code for device is not valid.",
    )
}

fn not_enabled_for(serial: &str, user: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "MFA Device with serial number {serial} is not enabled for user {user}."
    ))
}

/// The user an operation acts on: the one named, or else the caller. Root
/// has no user name, and the store keeps no MFA device for root.
fn user_or_caller<'a>(ctx: &'a RequestCtx, user_name: Option<&'a str>) -> Option<&'a str> {
    user_name.or_else(|| ctx.caller().user_name())
}

/// The step of `code2` when `code1` and `code2` are the codes of two
/// consecutive steps, `code2`'s within `steps`, both newer than the last
/// step the device accepted.
fn consecutive_codes(
    seed: &Seed,
    device: &m::MfaDevice,
    code1: &str,
    code2: &str,
    steps: RangeInclusive<u64>,
) -> Option<u64> {
    steps
        .filter(|&s| s >= 1)
        .filter(|&s| device.last_used_step.is_none_or(|last| s - 1 > last))
        .find(|&s| {
            seed.matching_step(code2, s..=s).is_some()
                && seed.matching_step(code1, s - 1..=s - 1).is_some()
        })
}

pub async fn create_virtual_mfa_device(
    ctx: &RequestCtx,
    i: CreateVirtualMFADeviceRequest,
) -> Result<CreateVirtualMFADeviceResponse, ApiError> {
    let tags = store_tags(i.tags.as_deref())?;
    let path = i.path.unwrap_or_else(|| "/".to_owned());
    let seed = Seed::generate()?;
    // The store names the device by this ARN; the seed is sealed to it.
    let serial = portcullis_store::arn::mfa_arn(ctx.account(), &path, &i.virtual_mfa_device_name);
    let sealed = seed.seal(&ctx.state().master_key, &serial)?;
    let device = ctx
        .store()
        .create_virtual_mfa_device(
            ctx.account(),
            &m::NewVirtualMfaDevice {
                name: i.virtual_mfa_device_name.clone(),
                path,
                seed_ciphertext: Ciphertext::new(sealed),
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    if device.serial_number != serial {
        tracing::error!(
            expected = %serial,
            stored = %device.serial_number,
            "the store named an MFA device differently from its sealed seed"
        );
        return Err(ApiError::internal());
    }
    let uri = otpauth_uri(&i.virtual_mfa_device_name, ctx.account(), &seed);
    let png = qr_png(&uri)?;
    Ok(CreateVirtualMFADeviceResponse {
        virtual_mfa_device: VirtualMFADevice {
            serial_number: device.serial_number,
            base32_string_seed: Some(Blob(seed.base32().as_bytes().to_vec())),
            qr_code_png: Some(Blob(png)),
            tags: (!device.tags.is_empty()).then(|| wire_tags(&device.tags)),
            enable_date: None,
            user: None,
        },
    })
}

pub async fn enable_mfa_device(
    ctx: &RequestCtx,
    i: EnableMFADeviceRequest,
) -> Result<(), ApiError> {
    let user = ctx
        .store()
        .get_user(ctx.account(), &i.user_name)
        .await
        .map_err(store_error)?;
    let device = ctx
        .store()
        .get_mfa_device(ctx.account(), &i.serial_number)
        .await
        .map_err(store_error)?;
    if device.user_name.is_some() {
        return Err(ApiError::new(
            ErrorCode::EntityAlreadyExists,
            "MFA Device is already in use.",
        ));
    }
    let seed = Seed::unseal(&ctx.state().master_key, &device)?;
    let current = step_at(ctx.now()).ok_or_else(invalid_codes)?;
    let step = consecutive_codes(
        &seed,
        &device,
        &i.authentication_code1,
        &i.authentication_code2,
        window(current, ENABLE_SKEW),
    )
    .ok_or_else(invalid_codes)?;
    ctx.store()
        .enable_mfa_device(
            ctx.account(),
            &user.name,
            &device.serial_number,
            step,
            ctx.now(),
        )
        .await
        .map_err(store_error)
}

pub async fn resync_mfa_device(
    ctx: &RequestCtx,
    i: ResyncMFADeviceRequest,
) -> Result<(), ApiError> {
    let user = ctx
        .store()
        .get_user(ctx.account(), &i.user_name)
        .await
        .map_err(store_error)?;
    let device = ctx
        .store()
        .get_mfa_device(ctx.account(), &i.serial_number)
        .await
        .map_err(store_error)?;
    if !device
        .user_name
        .as_deref()
        .is_some_and(|owner| owner.eq_ignore_ascii_case(&user.name))
    {
        return Err(not_enabled_for(&i.serial_number, &user.name));
    }
    let seed = Seed::unseal(&ctx.state().master_key, &device)?;
    let current = step_at(ctx.now()).ok_or_else(invalid_codes)?;
    let step = consecutive_codes(
        &seed,
        &device,
        &i.authentication_code1,
        &i.authentication_code2,
        window(current, RESYNC_SKEW),
    )
    .ok_or_else(invalid_codes)?;
    match ctx
        .store()
        .consume_mfa_step(ctx.account(), &device.serial_number, step)
        .await
    {
        Ok(true) => Ok(()),
        // A concurrent use of the device accepted this step first.
        Ok(false) => Err(invalid_codes()),
        Err(e) => Err(store_error(e)),
    }
}

pub async fn deactivate_mfa_device(
    ctx: &RequestCtx,
    i: DeactivateMFADeviceRequest,
) -> Result<(), ApiError> {
    let Some(user) = user_or_caller(ctx, i.user_name.as_deref()) else {
        return Err(ApiError::no_such_entity(format!(
            "MFA Device with serial number {} is not enabled for the root user.",
            i.serial_number
        )));
    };
    ctx.store()
        .deactivate_mfa_device(ctx.account(), user, &i.serial_number)
        .await
        .map_err(store_error)
}

pub async fn delete_virtual_mfa_device(
    ctx: &RequestCtx,
    i: DeleteVirtualMFADeviceRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_virtual_mfa_device(ctx.account(), &i.serial_number)
        .await
        .map_err(store_error)
}

fn wire_mfa_device(d: m::MfaDevice, user_name: &str) -> MFADevice {
    MFADevice {
        enable_date: ts(d.enable_date.unwrap_or(d.create_date)),
        serial_number: d.serial_number,
        user_name: d.user_name.unwrap_or_else(|| user_name.to_owned()),
    }
}

pub async fn list_mfa_devices(
    ctx: &RequestCtx,
    i: ListMFADevicesRequest,
) -> Result<ListMFADevicesResponse, ApiError> {
    let Some(user) = user_or_caller(ctx, i.user_name.as_deref()) else {
        // Root: the store holds no device enabled for it.
        return Ok(ListMFADevicesResponse {
            mfa_devices: Vec::new(),
            is_truncated: Some(false),
            marker: None,
        });
    };
    let page = ctx
        .store()
        .list_mfa_devices(ctx.account(), user, i.marker, ops::max_items(i.max_items))
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListMFADevicesResponse {
        mfa_devices: page
            .items
            .into_iter()
            .map(|d| wire_mfa_device(d, user))
            .collect(),
        is_truncated,
        marker,
    })
}

pub async fn get_mfa_device(
    ctx: &RequestCtx,
    i: GetMFADeviceRequest,
) -> Result<GetMFADeviceResponse, ApiError> {
    let user = user_or_caller(ctx, i.user_name.as_deref());
    let device = ctx
        .store()
        .get_mfa_device(ctx.account(), &i.serial_number)
        .await
        .map_err(store_error)?;
    let owned = match (user, device.user_name.as_deref()) {
        (Some(user), Some(owner)) => user.eq_ignore_ascii_case(owner),
        _ => false,
    };
    if !owned {
        return Err(not_enabled_for(
            &i.serial_number,
            user.unwrap_or(ctx.account()),
        ));
    }
    Ok(GetMFADeviceResponse {
        serial_number: device.serial_number,
        user_name: device.user_name,
        enable_date: device.enable_date.map(ts),
        certifications: None,
    })
}

pub async fn list_virtual_mfa_devices(
    ctx: &RequestCtx,
    i: ListVirtualMFADevicesRequest,
) -> Result<ListVirtualMFADevicesResponse, ApiError> {
    let assigned = match i.assignment_status.as_deref() {
        None | Some("Any") => None,
        Some("Assigned") => Some(true),
        Some("Unassigned") => Some(false),
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'assignmentStatus' failed to \
                 satisfy constraint: Member must satisfy enum value set: [Unassigned, Any, Assigned]"
            )));
        }
    };
    let page = ctx
        .store()
        .list_virtual_mfa_devices(
            ctx.account(),
            assigned,
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    let mut devices = Vec::with_capacity(page.items.len());
    for d in page.items {
        let user = match d.user_name.as_deref() {
            Some(name) => match ctx.store().get_user(ctx.account(), name).await {
                Ok(u) => Some(wire_user(&u, false)),
                // Deleted since the page was read: listed as unassigned.
                Err(StoreError::NoSuchEntity(_)) => None,
                Err(e) => return Err(store_error(e)),
            },
            None => None,
        };
        devices.push(VirtualMFADevice {
            serial_number: d.serial_number,
            enable_date: d.enable_date.map(ts),
            user,
            base32_string_seed: None,
            qr_code_png: None,
            tags: None,
        });
    }
    Ok(ListVirtualMFADevicesResponse {
        virtual_mfa_devices: devices,
        is_truncated,
        marker,
    })
}

pub async fn tag_mfa_device(ctx: &RequestCtx, i: TagMFADeviceRequest) -> Result<(), ApiError> {
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(ctx.account(), &TagTarget::MfaDevice(i.serial_number), &tags)
        .await
        .map_err(store_error)
}

pub async fn untag_mfa_device(ctx: &RequestCtx, i: UntagMFADeviceRequest) -> Result<(), ApiError> {
    ctx.store()
        .untag_resource(
            ctx.account(),
            &TagTarget::MfaDevice(i.serial_number),
            &i.tag_keys,
        )
        .await
        .map_err(store_error)
}

pub async fn list_mfa_device_tags(
    ctx: &RequestCtx,
    i: ListMFADeviceTagsRequest,
) -> Result<ListMFADeviceTagsResponse, ApiError> {
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::MfaDevice(i.serial_number),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListMFADeviceTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(last_used_step: Option<u64>) -> m::MfaDevice {
        m::MfaDevice {
            serial_number: "arn:aws:iam::123456789012:mfa/d".into(),
            account_id: "123456789012".into(),
            user_name: None,
            seed_ciphertext: Ciphertext::new(Vec::new()),
            create_date: time::OffsetDateTime::UNIX_EPOCH,
            enable_date: None,
            last_used_step,
            tags: Vec::new(),
        }
    }

    #[test]
    fn two_consecutive_codes_give_the_step_of_the_second() {
        let seed = Seed::generate().unwrap();
        let (c1, c2) = (seed.code_at_step(99), seed.code_at_step(100));
        let d = device(None);
        assert_eq!(
            consecutive_codes(&seed, &d, &c1, &c2, window(100, 2)),
            Some(100)
        );
        // Swapped, or the same code twice: not consecutive.
        assert_eq!(consecutive_codes(&seed, &d, &c2, &c1, window(100, 2)), None);
        assert_eq!(consecutive_codes(&seed, &d, &c2, &c2, window(100, 2)), None);
        // Too far from now.
        assert_eq!(consecutive_codes(&seed, &d, &c1, &c2, window(103, 2)), None);
        // Codes of steps the device already accepted cannot be used again.
        assert_eq!(
            consecutive_codes(&seed, &device(Some(99)), &c1, &c2, window(100, 2)),
            None
        );
        assert_eq!(
            consecutive_codes(&seed, &device(Some(98)), &c1, &c2, window(100, 2)),
            Some(100)
        );
    }
}
