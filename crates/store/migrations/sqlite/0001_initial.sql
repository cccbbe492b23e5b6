-- Portcullis store, initial schema (SQLite). Append-only: never edit a released migration;
-- add 0002_*.sql instead. Keep in step with ../postgres/0001_initial.sql.
--
-- Conventions: times are Unix seconds (BIGINT); booleans are 0/1 (BIGINT); names that AWS
-- compares case-insensitively have a `name_lower` column under a unique index, so uniqueness
-- is enforced by the database, not by a read before the write.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    alias       TEXT UNIQUE,
    create_date BIGINT NOT NULL,
    generation  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE password_policies (
    account_id                     TEXT PRIMARY KEY REFERENCES accounts(id),
    minimum_password_length        BIGINT NOT NULL,
    require_symbols                BIGINT NOT NULL,
    require_numbers                BIGINT NOT NULL,
    require_uppercase_characters   BIGINT NOT NULL,
    require_lowercase_characters   BIGINT NOT NULL,
    allow_users_to_change_password BIGINT NOT NULL,
    max_password_age               BIGINT,
    password_reuse_prevention      BIGINT,
    hard_expiry                    BIGINT NOT NULL
);

CREATE TABLE iam_users (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id),
    name               TEXT NOT NULL,
    name_lower         TEXT NOT NULL,
    path               TEXT NOT NULL,
    arn                TEXT NOT NULL,
    create_date        BIGINT NOT NULL,
    boundary_arn       TEXT,
    password_last_used BIGINT,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE iam_groups (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL,
    path        TEXT NOT NULL,
    arn         TEXT NOT NULL,
    create_date BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES iam_groups(id),
    user_id  TEXT NOT NULL REFERENCES iam_users(id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE iam_roles (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    name                 TEXT NOT NULL,
    name_lower           TEXT NOT NULL,
    path                 TEXT NOT NULL,
    arn                  TEXT NOT NULL,
    create_date          BIGINT NOT NULL,
    trust_policy         TEXT NOT NULL,
    description          TEXT,
    max_session_duration BIGINT NOT NULL,
    boundary_arn         TEXT,
    last_used_date       BIGINT,
    last_used_region     TEXT,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE managed_policies (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    name            TEXT NOT NULL,
    name_lower      TEXT NOT NULL,
    path            TEXT NOT NULL,
    arn             TEXT NOT NULL UNIQUE,
    description     TEXT,
    create_date     BIGINT NOT NULL,
    update_date     BIGINT NOT NULL,
    default_version BIGINT NOT NULL,
    next_version    BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE policy_versions (
    policy_id   TEXT NOT NULL REFERENCES managed_policies(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    create_date BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- owner_kind: 'user' | 'group' | 'role'; owner_id: that entity's unique id.
CREATE TABLE inline_policies (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name)
);

CREATE TABLE policy_attachments (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    -- The policy's path, taken from its ARN, for ListAttached*Policies --path-prefix.
    policy_path TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, policy_arn)
);
CREATE INDEX policy_attachments_arn ON policy_attachments (account_id, policy_arn);

-- user_id NULL: a key of the account root.
CREATE TABLE access_keys (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts(id),
    user_id           TEXT REFERENCES iam_users(id),
    status            TEXT NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    create_date       BIGINT NOT NULL,
    last_used_date    BIGINT,
    last_used_service TEXT,
    last_used_region  TEXT
);
CREATE INDEX access_keys_owner ON access_keys (account_id, user_id);

CREATE TABLE login_profiles (
    user_id                 TEXT PRIMARY KEY REFERENCES iam_users(id),
    password_hash           TEXT NOT NULL,
    password_reset_required BIGINT NOT NULL,
    create_date             BIGINT NOT NULL,
    password_changed        BIGINT NOT NULL
);

CREATE TABLE mfa_devices (
    serial_number  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    name_lower     TEXT NOT NULL,
    user_id        TEXT REFERENCES iam_users(id),
    seed_ciphertext BLOB NOT NULL,
    create_date    BIGINT NOT NULL,
    enable_date    BIGINT,
    last_used_step BIGINT,
    UNIQUE (account_id, name_lower)
);
CREATE INDEX mfa_devices_user ON mfa_devices (user_id);

CREATE TABLE instance_profiles (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL,
    path        TEXT NOT NULL,
    arn         TEXT NOT NULL,
    create_date BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

-- The primary key on the profile enforces AWS's one-role-per-profile quota.
CREATE TABLE instance_profile_roles (
    instance_profile_id TEXT PRIMARY KEY REFERENCES instance_profiles(id),
    role_id             TEXT NOT NULL REFERENCES iam_roles(id)
);
CREATE INDEX instance_profile_roles_role ON instance_profile_roles (role_id);

CREATE TABLE oidc_providers (
    arn         TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    url         TEXT NOT NULL,
    create_date BIGINT NOT NULL
);

CREATE TABLE oidc_provider_client_ids (
    provider_arn TEXT NOT NULL REFERENCES oidc_providers(arn) ON DELETE CASCADE,
    client_id    TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (provider_arn, client_id)
);

CREATE TABLE oidc_provider_thumbprints (
    provider_arn TEXT NOT NULL REFERENCES oidc_providers(arn) ON DELETE CASCADE,
    thumbprint   TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (provider_arn, thumbprint)
);

CREATE TABLE saml_providers (
    arn               TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts(id),
    name              TEXT NOT NULL,
    metadata_document TEXT NOT NULL,
    create_date       BIGINT NOT NULL,
    valid_until       BIGINT
);

-- resource_kind: 'user' | 'role' | 'policy' | 'instance-profile' | 'oidc-provider' |
-- 'saml-provider' | 'mfa'; resource_id: unique id, or ARN for providers and MFA devices.
CREATE TABLE tags (
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    resource_kind TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    tag_key       TEXT NOT NULL,
    key_lower     TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    PRIMARY KEY (resource_kind, resource_id, key_lower)
);

-- Service bookkeeping (not IAM entities).
CREATE TABLE signing_keys (
    purpose     TEXT NOT NULL,
    generation  BIGINT NOT NULL,
    key_id      TEXT NOT NULL UNIQUE,
    algorithm   TEXT NOT NULL,
    material    BLOB NOT NULL,
    create_date BIGINT NOT NULL,
    retire_date BIGINT,
    PRIMARY KEY (purpose, generation)
);

CREATE TABLE oidc_clients (
    client_id     TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    secret_hash   TEXT,
    create_date   BIGINT NOT NULL
);

CREATE TABLE signin_failures (
    account_id    TEXT NOT NULL,
    user_lower    TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    first_failure BIGINT NOT NULL,
    locked_until  BIGINT,
    PRIMARY KEY (account_id, user_lower)
);

CREATE TABLE one_time_values (
    kind       TEXT NOT NULL,
    value_key  TEXT NOT NULL,
    payload    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value_key)
);
CREATE INDEX one_time_values_expiry ON one_time_values (expires_at);
