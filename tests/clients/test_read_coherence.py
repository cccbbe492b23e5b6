"""GetUser is answered from memory between changes (crates/server/src/reads.rs).
These tests warm that cache first and then check that every change that
alters a user's description shows in the very next GetUser on the same node,
whoever asks: by name, by its own credentials, in another letter case."""

import urllib.parse
import http.client

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, error_code, unique


def get(iam, name):
    return iam.get_user(UserName=name)["User"]


def test_tags_show_on_the_next_read(iam):
    name = unique("coh")
    iam.create_user(UserName=name)
    assert "Tags" not in get(iam, name)
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "red"}])
    assert get(iam, name)["Tags"] == [{"Key": "team", "Value": "red"}]
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "blue"}])
    assert get(iam, name)["Tags"] == [{"Key": "team", "Value": "blue"}]
    iam.untag_user(UserName=name, TagKeys=["team"])
    assert "Tags" not in get(iam, name)


def test_rename_path_and_boundary_show_on_the_next_read(iam):
    name, new_name = unique("coh"), unique("coh-renamed")
    iam.create_user(UserName=name)
    user_id = get(iam, name)["UserId"]
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    assert get(iam, name)["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in get(iam, name)
    iam.update_user(UserName=name, NewUserName=new_name, NewPath="/moved/")
    with pytest.raises(ClientError) as e:
        get(iam, name)
    assert error_code(e) == "NoSuchEntity"
    moved = get(iam, new_name)
    assert (moved["UserId"], moved["Path"]) == (user_id, "/moved/")
    assert moved["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/moved/{new_name}"


def test_another_letter_case_reads_the_same_user_and_sees_its_changes(iam):
    name = unique("Coh")
    iam.create_user(UserName=name)
    assert get(iam, name.upper())["UserName"] == name
    iam.tag_user(UserName=name, Tags=[{"Key": "k", "Value": "v"}])
    assert get(iam, name.lower())["Tags"] == [{"Key": "k", "Value": "v"}]


def test_a_deleted_user_is_gone_on_the_next_read_and_a_new_one_is_new(iam):
    name = unique("coh")
    first = iam.create_user(UserName=name)["User"]["UserId"]
    assert get(iam, name)["UserId"] == first
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as e:
        get(iam, name)
    assert error_code(e) == "NoSuchEntity"
    second = iam.create_user(UserName=name)["User"]["UserId"]
    assert second != first
    assert get(iam, name)["UserId"] == second


def test_a_user_asking_about_itself_sees_its_own_changes(iam, make_user):
    user = make_user({"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    assert "Tags" not in user.iam.get_user()["User"]
    iam.tag_user(UserName=user.name, Tags=[{"Key": "seen", "Value": "yes"}])
    assert user.iam.get_user()["User"]["Tags"] == [{"Key": "seen", "Value": "yes"}]


class Portal:
    """The sign-in portal over plain HTTP, keeping one cookie, following nothing."""

    def __init__(self, server):
        self.port = server.port
        self.cookie = None

    def send(self, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookie = value.split(";", 1)[0]
        conn.close()
        return response.status, response.getheader("Location"), text


def csrf_of(page):
    marker = 'name="csrf" value="'
    at = page.index(marker) + len(marker)
    return page[at:page.index('"', at)]


def test_a_sign_in_shows_as_password_last_used_on_the_next_read(server, iam):
    name, password = unique("coh-person"), "Coherent-Passw0rd!"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=password, PasswordResetRequired=False)
    assert "PasswordLastUsed" not in get(iam, name)
    portal = Portal(server)
    status, _, form = portal.send("GET", "/portal/signin")
    assert status == 200, form
    status, location, body = portal.send("POST", "/portal/signin", {
        "csrf": csrf_of(form), "account": ACCOUNT_ID, "username": name, "password": password})
    assert status == 303, (status, location, body)
    assert "PasswordLastUsed" in get(iam, name)
