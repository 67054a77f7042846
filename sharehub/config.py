"""Settings read from the environment through small typed parsers, and secrets through one function."""

from __future__ import annotations

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
