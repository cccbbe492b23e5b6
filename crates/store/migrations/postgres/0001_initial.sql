-- Portcullis store, initial schema (PostgreSQL). Append-only: never edit a released migration;
-- add 0002_*.sql instead. Keep in step with ../sqlite/0001_initial.sql.
--
-- Text columns use the "C" collation so ordering (and so pagination) is byte order, the
-- same as SQLite's, whatever the database's default locale.
--
-- Conventions: times are Unix seconds (BIGINT); booleans are 0/1 (BIGINT); names that AWS
-- compares case-insensitively have a `name_lower` column under a unique index, so uniqueness
-- is enforced by the database, not by a read before the write.

CREATE TABLE accounts (
    id          TEXT COLLATE "C" PRIMARY KEY,
    alias       TEXT COLLATE "C" UNIQUE,
    create_date BIGINT NOT NULL,
    generation  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE password_policies (
    account_id                     TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id),
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
    id                 TEXT COLLATE "C" PRIMARY KEY,
    account_id         TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name               TEXT COLLATE "C" NOT NULL,
    name_lower         TEXT COLLATE "C" NOT NULL,
    path               TEXT COLLATE "C" NOT NULL,
    arn                TEXT COLLATE "C" NOT NULL,
    create_date        BIGINT NOT NULL,
    boundary_arn       TEXT COLLATE "C",
    password_last_used BIGINT,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE iam_groups (
    id          TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name        TEXT COLLATE "C" NOT NULL,
    name_lower  TEXT COLLATE "C" NOT NULL,
    path        TEXT COLLATE "C" NOT NULL,
    arn         TEXT COLLATE "C" NOT NULL,
    create_date BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES iam_groups(id),
    user_id  TEXT COLLATE "C" NOT NULL REFERENCES iam_users(id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE iam_roles (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name                 TEXT COLLATE "C" NOT NULL,
    name_lower           TEXT COLLATE "C" NOT NULL,
    path                 TEXT COLLATE "C" NOT NULL,
    arn                  TEXT COLLATE "C" NOT NULL,
    create_date          BIGINT NOT NULL,
    trust_policy         TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C",
    max_session_duration BIGINT NOT NULL,
    boundary_arn         TEXT COLLATE "C",
    last_used_date       BIGINT,
    last_used_region     TEXT COLLATE "C",
    UNIQUE (account_id, name_lower)
);

CREATE TABLE managed_policies (
    id              TEXT COLLATE "C" PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name            TEXT COLLATE "C" NOT NULL,
    name_lower      TEXT COLLATE "C" NOT NULL,
    path            TEXT COLLATE "C" NOT NULL,
    arn             TEXT COLLATE "C" NOT NULL UNIQUE,
    description     TEXT COLLATE "C",
    create_date     BIGINT NOT NULL,
    update_date     BIGINT NOT NULL,
    default_version BIGINT NOT NULL,
    next_version    BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE policy_versions (
    policy_id   TEXT COLLATE "C" NOT NULL REFERENCES managed_policies(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    document    TEXT COLLATE "C" NOT NULL,
    create_date BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- owner_kind: 'user' | 'group' | 'role'; owner_id: that entity's unique id.
CREATE TABLE inline_policies (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    owner_kind TEXT COLLATE "C" NOT NULL,
    owner_id   TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    document   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name)
);

CREATE TABLE policy_attachments (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    owner_kind TEXT COLLATE "C" NOT NULL,
    owner_id   TEXT COLLATE "C" NOT NULL,
    policy_arn TEXT COLLATE "C" NOT NULL,
    -- The policy's path, taken from its ARN, for ListAttached*Policies --path-prefix.
    policy_path TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, policy_arn)
);
CREATE INDEX policy_attachments_arn ON policy_attachments (account_id, policy_arn);

-- user_id NULL: a key of the account root.
CREATE TABLE access_keys (
    id                TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    user_id           TEXT COLLATE "C" REFERENCES iam_users(id),
    status            TEXT COLLATE "C" NOT NULL,
    secret_ciphertext BYTEA NOT NULL,
    create_date       BIGINT NOT NULL,
    last_used_date    BIGINT,
    last_used_service TEXT COLLATE "C",
    last_used_region  TEXT COLLATE "C"
);
CREATE INDEX access_keys_owner ON access_keys (account_id, user_id);

CREATE TABLE login_profiles (
    user_id                 TEXT COLLATE "C" PRIMARY KEY REFERENCES iam_users(id),
    password_hash           TEXT COLLATE "C" NOT NULL,
    password_reset_required BIGINT NOT NULL,
    create_date             BIGINT NOT NULL,
    password_changed        BIGINT NOT NULL
);

CREATE TABLE mfa_devices (
    serial_number  TEXT COLLATE "C" PRIMARY KEY,
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name_lower     TEXT COLLATE "C" NOT NULL,
    user_id        TEXT COLLATE "C" REFERENCES iam_users(id),
    seed_ciphertext BYTEA NOT NULL,
    create_date    BIGINT NOT NULL,
    enable_date    BIGINT,
    last_used_step BIGINT,
    UNIQUE (account_id, name_lower)
);
CREATE INDEX mfa_devices_user ON mfa_devices (user_id);

CREATE TABLE instance_profiles (
    id          TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name        TEXT COLLATE "C" NOT NULL,
    name_lower  TEXT COLLATE "C" NOT NULL,
    path        TEXT COLLATE "C" NOT NULL,
    arn         TEXT COLLATE "C" NOT NULL,
    create_date BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

-- The primary key on the profile enforces AWS's one-role-per-profile quota.
CREATE TABLE instance_profile_roles (
    instance_profile_id TEXT COLLATE "C" PRIMARY KEY REFERENCES instance_profiles(id),
    role_id             TEXT COLLATE "C" NOT NULL REFERENCES iam_roles(id)
);
CREATE INDEX instance_profile_roles_role ON instance_profile_roles (role_id);

CREATE TABLE oidc_providers (
    arn         TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    url         TEXT COLLATE "C" NOT NULL,
    create_date BIGINT NOT NULL
);

CREATE TABLE oidc_provider_client_ids (
    provider_arn TEXT COLLATE "C" NOT NULL REFERENCES oidc_providers(arn) ON DELETE CASCADE,
    client_id    TEXT COLLATE "C" NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (provider_arn, client_id)
);

CREATE TABLE oidc_provider_thumbprints (
    provider_arn TEXT COLLATE "C" NOT NULL REFERENCES oidc_providers(arn) ON DELETE CASCADE,
    thumbprint   TEXT COLLATE "C" NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (provider_arn, thumbprint)
);

CREATE TABLE saml_providers (
    arn               TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name              TEXT COLLATE "C" NOT NULL,
    metadata_document TEXT COLLATE "C" NOT NULL,
    create_date       BIGINT NOT NULL,
    valid_until       BIGINT
);

-- resource_kind: 'user' | 'role' | 'policy' | 'instance-profile' | 'oidc-provider' |
-- 'saml-provider' | 'mfa'; resource_id: unique id, or ARN for providers and MFA devices.
CREATE TABLE tags (
    account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    resource_kind TEXT COLLATE "C" NOT NULL,
    resource_id   TEXT COLLATE "C" NOT NULL,
    tag_key       TEXT COLLATE "C" NOT NULL,
    key_lower     TEXT COLLATE "C" NOT NULL,
    tag_value     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (resource_kind, resource_id, key_lower)
);

-- Service bookkeeping (not IAM entities).
CREATE TABLE signing_keys (
    purpose     TEXT COLLATE "C" NOT NULL,
    generation  BIGINT NOT NULL,
    key_id      TEXT COLLATE "C" NOT NULL UNIQUE,
    algorithm   TEXT COLLATE "C" NOT NULL,
    material    BYTEA NOT NULL,
    create_date BIGINT NOT NULL,
    retire_date BIGINT,
    PRIMARY KEY (purpose, generation)
);

CREATE TABLE oidc_clients (
    client_id     TEXT COLLATE "C" PRIMARY KEY,
    account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name          TEXT COLLATE "C" NOT NULL,
    redirect_uris TEXT COLLATE "C" NOT NULL,
    secret_hash   TEXT COLLATE "C",
    create_date   BIGINT NOT NULL
);

CREATE TABLE signin_failures (
    account_id    TEXT COLLATE "C" NOT NULL,
    user_lower    TEXT COLLATE "C" NOT NULL,
    failures      BIGINT NOT NULL,
    first_failure BIGINT NOT NULL,
    locked_until  BIGINT,
    PRIMARY KEY (account_id, user_lower)
);

CREATE TABLE one_time_values (
    kind       TEXT COLLATE "C" NOT NULL,
    value_key  TEXT COLLATE "C" NOT NULL,
    payload    TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value_key)
);
CREATE INDEX one_time_values_expiry ON one_time_values (expires_at);
