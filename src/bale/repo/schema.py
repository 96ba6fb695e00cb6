"""Which config keys exist and what values they take (DVC's names)."""

from __future__ import annotations

from bale.errors import ConfigError

BOOL = "bool"
INT = "int"
STR = "str"
LINKS = "links"

SECTIONS: dict[str, dict[str, str]] = {
    "core": {
        "remote": STR, "autostage": BOOL, "no_scm": BOOL, "check_update": BOOL,
        "analytics": BOOL, "interactive": BOOL, "hardlink_lock": BOOL,
        "site_cache_dir": STR, "checksum_jobs": INT,
    },
    "cache": {
        "dir": STR, "type": LINKS, "shared": STR, "slow_link_warning": BOOL,
        "verify": BOOL, "protected": BOOL, "local": STR, "s3": STR, "ssh": STR,
    },
    "state": {"row_limit": INT, "row_cleanup_quota": INT, "dir": STR},
    "index": {"dir": STR},
    "feature": {}, "plots": {}, "exp": {}, "studio": {}, "hydra": {}, "parsing": {},
    "db": {}, "machine": {},
}  # fmt: skip
# Sections whose keys bale does not check: DVC features bale passes through.
OPEN_SECTIONS = frozenset(
    {"feature", "plots", "exp", "studio", "hydra", "parsing", "db", "machine"}
)

REMOTE_OPTIONS: dict[str, str] = {
    "url": STR, "jobs": INT, "checksum_jobs": INT, "worktree": BOOL, "version_aware": BOOL,
    "verify": BOOL, "no_traverse": BOOL,
    # s3 and compatible
    "region": STR, "profile": STR, "credentialpath": STR, "configpath": STR,
    "endpointurl": STR, "access_key_id": STR, "secret_access_key": STR,
    "session_token": STR, "use_ssl": BOOL, "ssl_verify": STR, "listobjects": BOOL,
    "sse": STR, "sse_kms_key_id": STR, "sse_customer_algorithm": STR, "sse_customer_key": STR,
    "acl": STR, "grant_read": STR, "grant_read_acp": STR, "grant_write_acp": STR,
    "grant_full_control": STR, "allow_anonymous_login": BOOL, "read_timeout": INT,
    "connect_timeout": INT, "cache_regions": BOOL,
    # ssh
    "user": STR, "port": INT, "keyfile": STR, "password": STR, "ask_password": BOOL,
    "passphrase": STR, "ask_passphrase": BOOL, "gss_auth": BOOL, "allow_agent": BOOL,
    "timeout": INT,
    # gs, azure, http and others
    "projectname": STR, "account_name": STR, "account_key": STR, "connection_string": STR,
    "sas_token": STR, "tenant_id": STR, "client_id": STR, "client_secret": STR,
    "allow_anonymous": BOOL, "exclude_environment_credential": BOOL,
    "auth": STR, "custom_auth_header": STR, "method": STR, "token": STR,
    "ssl_verify_path": STR,
}  # fmt: skip

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def check_value(name: str, kind: str, value: str) -> str:
    """Validate `value` for config `name`; return what to write (as given).

    Raises:
        ConfigError: the value does not fit.
    """
    if kind == BOOL:
        lowered = value.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return value  # written as given, as dvc config does
        raise ConfigError(f"{name} must be true or false, not {value!r}")
    if kind == INT:
        try:
            if int(value) < 0:
                raise ValueError
        except ValueError as exc:
            raise ConfigError(f"{name} must be a whole number >= 0, not {value!r}") from exc
        return value.strip()
    if kind == LINKS:
        parse_link_types(name, value)
    return value


LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")


def parse_link_types(name: str, value: str) -> tuple[str, ...]:
    """`reflink,copy` -> ("reflink", "copy").

    Raises:
        ConfigError: empty, or a name that is not a link type.
    """
    types = tuple(p.strip() for p in value.split(",") if p.strip())
    if not types or any(t not in LINK_TYPES for t in types):
        raise ConfigError(
            f"{name} {value!r} is not valid; use a comma-separated list of " + ", ".join(LINK_TYPES)
        )
    return types


def option_kind(section: str, name: str | None, key: str) -> str:
    """The value kind of a config key, or raise naming the valid ones."""
    if section == "remote":
        if key not in REMOTE_OPTIONS:
            raise ConfigError(f"'{key}' is not a remote option; see: bale remote modify -h")
        return REMOTE_OPTIONS[key]
    if section not in SECTIONS:
        raise ConfigError(
            f"'{section}' is not a config section; known: "
            + ", ".join(sorted({*SECTIONS, "remote"}))
        )
    if section in OPEN_SECTIONS:
        return STR
    keys = SECTIONS[section]
    if key not in keys:
        raise ConfigError(
            f"'{section}.{key}' is not a config option; known in [{section}]: "
            + ", ".join(sorted(keys))
        )
    return keys[key]
