"""The console's users: a small JSON file of names, roles and password hashes.

Why a file and not a table: the console must work with the SQLite default as with
PostgreSQL, a call center has a handful of supervisors and flow authors, and the file
is managed with ``voicebot users add|list|remove`` on the machine itself (nobody can
create the first admin over the network). The service reads the file again when it
changes, so a user added or removed takes effect without a restart.

Passwords are hashed with the standard library's scrypt (memory-hard, a random salt per
user) and compared in constant time. The file is written atomically, readable by its
owner only::

    {"users": [{"name": "wang", "role": "admin", "password": "scrypt$16384$8$1$<salt>$<hash>"}]}
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.config import Settings
from bot.errors import ConfigError

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "admin")
NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
# scrypt's cost: 16 MiB and about 50 ms per check; logins are rare, guesses must be dear.
SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES, SALT_BYTES = 2**14, 8, 1, 32, 16
_SCHEME = "scrypt"


class UserError(ConfigError):
    """A user that cannot be added or removed (a bad name, role or password), or an
    unreadable users file."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password: str  # the hash, as stored

    def check(self, password: str) -> bool:
        """Whether ``password`` is this user's (in constant time, whatever it is)."""
        return verify_password(password, self.password)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join([_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@functools.cache
def _dummy_hash() -> str:
    """A hash nothing matches, checked for unknown users: as slow as a real one."""
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=64 * 1024 * 1024,
        dklen=HASH_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def users_path(settings: Settings) -> Path:
    """``VOICEBOT_CONSOLE_USERS``, else ``console_users.json`` in the data directory."""
    return settings.console_users or settings.data_dir / "console_users.json"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UserError(f"user name {name!r}: use 1 to 64 letters, digits, '_', '.', '@' or '-'")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise UserError(f"the password must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


class UsersFile:
    """The users file at ``path``: read when it changed since the last read (by its
    modification time and size), written whole and atomically. Thread-safe: the service
    reads it from worker threads (scrypt blocks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._users: dict[str, User] = {}

    def users(self) -> dict[str, User]:
        """The users by name, as the file holds them now (empty when there is no file)."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self._seen, self._users = None, {}
                return {}
            except OSError as exc:
                raise UserError(f"{self.path}: cannot read the console users ({exc.strerror})") from exc
            seen = (stat.st_mtime_ns, stat.st_size)
            if seen != self._seen:
                self._users, self._seen = self._read(), seen
            return self._users

    def get(self, name: str) -> User | None:
        return self.users().get(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise. An unknown name costs
        the same scrypt as a known one, so the time does not tell which names exist."""
        user = self.get(name)
        ok = verify_password(password, user.password if user else _dummy_hash())
        return user if ok and user is not None else None

    def add(self, name: str, role: str, password: str) -> bool:
        """Add ``name``, or replace its role and password. Returns whether it was new."""
        check_name(name)
        if role not in ROLES:
            raise UserError(f"role {role!r}: use viewer or admin")
        user = User(name, role, hash_password(check_password(password)))
        users = dict(self.users())
        new = name not in users
        users[name] = user
        self._write(users)
        return new

    def remove(self, name: str) -> bool:
        """Remove ``name``; False when there was no such user."""
        users = dict(self.users())
        if users.pop(name, None) is None:
            return False
        self._write(users)
        return True

    def _read(self) -> dict[str, User]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            rows = data["users"]
            users = {}
            for row in rows:
                if row["role"] not in ROLES or not isinstance(row["password"], str):
                    raise ValueError(f"user {row['name']!r}: bad role or password")
                users[check_name(row["name"])] = User(row["name"], row["role"], row["password"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{self.path}: not a console users file ({exc})") from exc
        return users

    def _write(self, users: dict[str, User]) -> None:
        rows: list[dict[str, Any]] = [
            {"name": u.name, "role": u.role, "password": u.password}
            for u in sorted(users.values(), key=_name)
        ]
        text = json.dumps({"users": rows}, ensure_ascii=False, indent=2) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, self.path)


def _name(user: User) -> str:
    return user.name
