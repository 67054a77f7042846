"""Settings read from the environment through small typed parsers, and secrets through one function."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path


class ConfigError(Exception):
    """A setting in the environment cannot be used; the message names it and says why."""


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """The data directory: database, files, keys. Created on first use."""
    path = Path(env_str("SHAREHUB_DATA_DIR", str(Path.cwd() / "data"))).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret(name: str, env_name: str, nbytes: int = 48) -> str:
    """A secret from the environment, or from a 0600 key file in the data directory made on first run.

    Secrets are never stored in the database.
    """
    from_env = os.environ.get(env_name, "").strip()
    if from_env:
        return from_env
    keys = data_dir() / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    key_file = keys / name
    if not key_file.exists():
        value = secrets.token_urlsafe(nbytes)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
    return key_file.read_text().strip()


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of addresses and CIDR networks (`10.0.0.5, 172.16.0.0/12, ::1`)."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name} must list IP addresses or networks like 10.0.0.0/8, not {item!r}") from None
    return networks


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """A rate like `600/min` as (requests, seconds); `off` turns the limit off (None)."""
    raw = env_str(name, default).lower().replace(" ", "")
    if raw in {"off", "0", "none"}:
        return None
    count, _, unit = raw.partition("/")
    periods = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
    if not count.isdecimal() or int(count) < 1 or unit not in periods:
        raise ConfigError(f"{name} must be a rate like 600/min (per s, min or hour) or off, not {raw!r}")
    return int(count), periods[unit]


def email_settings(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings from SHAREHUB_EMAIL_URL: `smtp://[user:password@]host[:port]` (add
    `?starttls=true` to upgrade the connection) or `smtps://...` (TLS from the start). Empty: no email."""
    from urllib.parse import parse_qs, unquote, urlsplit

    if not url:
        return {}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"SHAREHUB_EMAIL_URL cannot be read: {error}") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "SHAREHUB_EMAIL_URL must look like smtp://user:password@host:587?starttls=true or smtps://host"
        )
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise ConfigError(f"SHAREHUB_EMAIL_URL has options it does not know: {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", "false") in ("1", "true", "yes", "on")
    timeout = query.get("timeout", "20")
    if not timeout.isdigit() or not 1 <= int(timeout) <= 300:
        raise ConfigError("SHAREHUB_EMAIL_URL timeout must be 1 to 300 seconds")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": starttls and parts.scheme == "smtp",
        "EMAIL_TIMEOUT": int(timeout),
    }
