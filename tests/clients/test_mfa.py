"""Virtual MFA devices with real clients: the seed and QR code handed out
once, enabling with two consecutive codes, resynchronising, deactivating,
deleting, listing, tags and the AWS CLI.

Codes are computed here with RFC 6238 (HMAC-SHA1, 6 digits, 30 s), as an
authenticator app would."""

import base64
import hashlib
import hmac
import struct
import time
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, aws_cli, error_code, unique


def totp(seed_b32, step):
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def now_step():
    return int(time.time()) // 30


def message(exc_info):
    return exc_info.value.response["Error"]["Message"]


def test_the_totp_helper_matches_rfc_6238():
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert totp(seed, 59 // 30) == "287082"
    assert totp(seed, 1111111109 // 30) == "081804"
    assert totp(seed, 20000000000 // 30) == "353130"


def create_device(iam, **kwargs):
    name = unique("mfa")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, **kwargs)["VirtualMFADevice"]
    return name, device["SerialNumber"], device["Base32StringSeed"].decode()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, color


def png_gray_rows(data):
    """The rows of an 8-bit grayscale PNG, unfiltered (RFC 2083, section 6)."""
    width, height, depth, color = png_size(data)
    assert (depth, color) == (8, 0)
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == height * (width + 1)
    rows, prior = [], bytearray(width)
    for y in range(height):
        kind, line = raw[y * (width + 1)], bytearray(raw[y * (width + 1) + 1:(y + 1) * (width + 1)])
        for x in range(width):
            a = line[x - 1] if x else 0
            b, c = prior[x], (prior[x - 1] if x else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert kind == 0
        rows.append(bytes(line))
        prior = line
    return rows


def assert_is_a_qr_code(data):
    """Black and white only, with the finder patterns of a QR code where they
    belong: 7-module dark squares in three corners inside a white border."""
    rows = png_gray_rows(data)
    side = len(rows)
    assert side == len(rows[0])
    assert set(b"".join(rows)) == {0, 255}
    y0 = next(y for y, row in enumerate(rows) if 0 in row)
    x0 = rows[y0].index(0)
    assert x0 == y0 > 0  # a white quiet zone, the same on both sides
    run = rows[y0][x0:].index(255)
    assert run % 7 == 0
    scale = run // 7
    assert side % scale == 0 and x0 % scale == 0
    modules = side // scale - 2 * (x0 // scale)
    assert modules >= 21 and modules % 4 == 1  # QR sizes are 17 + 4 * version
    right = x0 + (modules - 7) * scale
    assert rows[y0][right:right + run] == bytes(run)  # top-right finder
    bottom = y0 + (modules - 7) * scale
    assert rows[bottom][x0:x0 + run] == bytes(run)  # bottom-left finder
    # A finder is a ring: its second module row is dark, light, ..., dark.
    ring = rows[y0 + scale + scale // 2]
    assert ring[x0] == 0 and ring[x0 + scale] == 255 and ring[x0 + 6 * scale] == 0


def test_create_hands_out_the_seed_and_a_qr_code_once(iam):
    name = unique("phone")
    device = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=name, Path="/team/", Tags=[{"Key": "owner", "Value": "ops"}]
    )["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT_ID}:mfa/team/{name}"
    seed = device["Base32StringSeed"].decode()
    assert len(seed) == 64 and set(seed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert_is_a_qr_code(device["QRCodePNG"])
    assert device["Tags"] == [{"Key": "owner", "Value": "ops"}]
    assert "User" not in device and "EnableDate" not in device

    # Another device has another seed; the seed is never listed again.
    _, _, other_seed = create_device(iam)
    assert other_seed != seed
    listed = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    mine = [d for d in listed if d["SerialNumber"] == device["SerialNumber"]]
    assert mine == [{"SerialNumber": device["SerialNumber"]}]

    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path="/team/")
    assert error_code(e) == "EntityAlreadyExists"


def test_enable_needs_two_consecutive_current_codes(iam, make_user):
    user = make_user()
    name, serial, seed = create_device(iam)
    step = now_step()

    for codes in (
        ("000000", "000000"),
        (totp(seed, step), totp(seed, step - 1)),  # swapped
        (totp(seed, step - 20), totp(seed, step - 19)),  # ten minutes old
        (totp(seed, step), totp(seed, step)),
    ):
        with pytest.raises(ClientError) as e:
            iam.enable_mfa_device(
                UserName=user.name, SerialNumber=serial, AuthenticationCode1=codes[0], AuthenticationCode2=codes[1]
            )
        assert error_code(e) == "InvalidAuthenticationCode"
        assert message(e) == "Authentication code for device is not valid."
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(
            UserName=unique("nobody"), SerialNumber=serial,
            AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
        )
    assert error_code(e) == "NoSuchEntity"
    missing_serial = f"arn:aws:iam::{ACCOUNT_ID}:mfa/{unique('none')}"
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(
            UserName=user.name, SerialNumber=missing_serial,
            AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
        )
    assert error_code(e) == "NoSuchEntity"

    iam.enable_mfa_device(
        UserName=user.name, SerialNumber=serial,
        AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
    )
    devices = iam.list_mfa_devices(UserName=user.name)["MFADevices"]
    assert [(d["SerialNumber"], d["UserName"]) for d in devices] == [(serial, user.name)]
    assert abs(devices[0]["EnableDate"].timestamp() - time.time()) < 120
    got = iam.get_mfa_device(UserName=user.name, SerialNumber=serial)
    assert (got["SerialNumber"], got["UserName"]) == (serial, user.name)

    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    mine = [d for d in assigned if d["SerialNumber"] == serial]
    assert len(mine) == 1 and mine[0]["User"]["UserName"] == user.name and "EnableDate" in mine[0]
    assert mine[0]["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}"
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert serial not in [d["SerialNumber"] for d in unassigned]

    # Enabled once only, for anyone.
    other = make_user()
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(
            UserName=other.name, SerialNumber=serial,
            AuthenticationCode1=totp(seed, step), AuthenticationCode2=totp(seed, step + 1),
        )
    assert error_code(e) == "EntityAlreadyExists"
    # A user with an enabled device cannot be deleted.
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=user.name)
    assert error_code(e) == "DeleteConflict"


def enabled_device(iam, user_name):
    _, serial, seed = create_device(iam)
    step = now_step()
    iam.enable_mfa_device(
        UserName=user_name, SerialNumber=serial,
        AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
    )
    return serial, seed, step


def test_resync_accepts_newer_consecutive_codes_once(iam, make_user):
    user = make_user()
    serial, seed, step = enabled_device(iam, user.name)
    # The codes used to enable are spent.
    with pytest.raises(ClientError) as e:
        iam.resync_mfa_device(
            UserName=user.name, SerialNumber=serial,
            AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
        )
    assert error_code(e) == "InvalidAuthenticationCode"
    # A device running a few minutes fast.
    codes = dict(AuthenticationCode1=totp(seed, step + 5), AuthenticationCode2=totp(seed, step + 6))
    iam.resync_mfa_device(UserName=user.name, SerialNumber=serial, **codes)
    with pytest.raises(ClientError) as e:
        iam.resync_mfa_device(UserName=user.name, SerialNumber=serial, **codes)
    assert error_code(e) == "InvalidAuthenticationCode"
    with pytest.raises(ClientError) as e:
        iam.resync_mfa_device(
            UserName=user.name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
    assert error_code(e) == "InvalidAuthenticationCode"
    # Only for the user the device is enabled for.
    other = make_user()
    with pytest.raises(ClientError) as e:
        iam.resync_mfa_device(
            UserName=other.name, SerialNumber=serial,
            AuthenticationCode1=totp(seed, step + 7), AuthenticationCode2=totp(seed, step + 8),
        )
    assert error_code(e) == "NoSuchEntity"


def test_deactivate_then_delete(iam, make_user):
    user = make_user()
    serial, seed, step = enabled_device(iam, user.name)
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_code(e) == "DeleteConflict"
    other = make_user()
    with pytest.raises(ClientError) as e:
        iam.deactivate_mfa_device(UserName=other.name, SerialNumber=serial)
    assert error_code(e) == "NoSuchEntity"

    iam.deactivate_mfa_device(UserName=user.name, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user.name)["MFADevices"] == []
    with pytest.raises(ClientError) as e:
        iam.get_mfa_device(UserName=user.name, SerialNumber=serial)
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.deactivate_mfa_device(UserName=user.name, SerialNumber=serial)
    assert error_code(e) == "NoSuchEntity"
    # The device can be enabled again, with codes it has not accepted before.
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(
            UserName=user.name, SerialNumber=serial,
            AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
        )
    assert error_code(e) == "InvalidAuthenticationCode"
    iam.enable_mfa_device(
        UserName=user.name, SerialNumber=serial,
        AuthenticationCode1=totp(seed, step + 1), AuthenticationCode2=totp(seed, step + 2),
    )
    iam.deactivate_mfa_device(UserName=user.name, SerialNumber=serial)

    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_code(e) == "NoSuchEntity"
    assert message(e) == f"VirtualMFADevice with serial number {serial} doesn't exist."
    all_serials = [
        d["SerialNumber"]
        for page in iam.get_paginator("list_virtual_mfa_devices").paginate()
        for d in page["VirtualMFADevices"]
    ]
    assert serial not in all_serials


def test_list_virtual_devices_pages(iam):
    serials = sorted(create_device(iam)[1] for _ in range(3))
    seen, marker, pages = [], None, 0
    while True:
        args = {"MaxItems": 2, "AssignmentStatus": "Any"}
        if marker:
            args["Marker"] = marker
        page = iam.list_virtual_mfa_devices(**args)
        pages += 1
        seen += [d["SerialNumber"] for d in page["VirtualMFADevices"]]
        assert len(page["VirtualMFADevices"]) <= 2
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert pages >= 2
    assert seen == sorted(seen) and set(serials) <= set(seen)


def test_a_user_lists_and_deactivates_its_own_devices(iam, make_user):
    user = make_user(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["iam:ListMFADevices", "iam:DeactivateMFADevice"],
                    "Resource": "arn:aws:iam::*:user/${aws:username}",
                }
            ],
        }
    )
    serial, _, _ = enabled_device(iam, user.name)
    # No UserName: the caller's own devices.
    assert [d["SerialNumber"] for d in user.iam.list_mfa_devices()["MFADevices"]] == [serial]
    other = make_user()
    with pytest.raises(ClientError) as e:
        user.iam.list_mfa_devices(UserName=other.name)
    assert error_code(e) == "AccessDenied"
    user.iam.deactivate_mfa_device(SerialNumber=serial)
    assert user.iam.list_mfa_devices()["MFADevices"] == []
    # Root has no devices here.
    assert iam.list_mfa_devices()["MFADevices"] == []


def test_tags(iam):
    _, serial, _ = create_device(iam)
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    first = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=1)
    assert first["Tags"] == [{"Key": "a", "Value": "1"}] and first["IsTruncated"] is True
    rest = iam.list_mfa_device_tags(SerialNumber=serial, Marker=first["Marker"])
    assert rest["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["a"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "aws:x", "Value": "1"}])
    assert error_code(e) == "InvalidInput"
    missing = f"arn:aws:iam::{ACCOUNT_ID}:mfa/{unique('none')}"
    with pytest.raises(ClientError) as e:
        iam.list_mfa_device_tags(SerialNumber=missing)
    assert error_code(e) == "NoSuchEntity"


def test_cli_bootstraps_a_device_from_its_seed(server, iam, make_user, tmp_path):
    user = make_user()
    name = unique("cli-mfa")
    seed_file = tmp_path / "seed.txt"
    _, created = aws_cli(
        server, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", name,
        "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed",
    )
    serial = created["VirtualMFADevice"]["SerialNumber"]
    seed = seed_file.read_text().strip()
    assert len(seed) == 64
    qr_file = tmp_path / "qr.png"
    aws_cli(
        server, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", unique("cli-qr"),
        "--outfile", str(qr_file), "--bootstrap-method", "QRCodePNG",
    )
    assert_is_a_qr_code(qr_file.read_bytes())

    step = now_step()
    aws_cli(
        server, "iam", "enable-mfa-device", "--user-name", user.name, "--serial-number", serial,
        "--authentication-code1", totp(seed, step - 1), "--authentication-code2", totp(seed, step),
    )
    _, listed = aws_cli(server, "iam", "list-mfa-devices", "--user-name", user.name)
    assert [d["SerialNumber"] for d in listed["MFADevices"]] == [serial]
    iam.deactivate_mfa_device(UserName=user.name, SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
