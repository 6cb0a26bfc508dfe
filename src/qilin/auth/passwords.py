"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

import secrets
from typing import BinaryIO

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qilin.auth.errors import UserError
from qilin.common.messages import t

_hasher = PasswordHasher()

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def read_password(stream: BinaryIO) -> str:
    """The first line of ``stream`` (standard input's bytes) as a password, without its line break;
    :class:`UserError` when it is not UTF-8 text."""
    line = stream.readline()
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(
            t("users.password_not_utf8", lang="zh"), t("users.password_not_utf8", lang="en")
        ) from None
    return text.rstrip("\r\n")


def generate_password() -> str:
    """A random password for generated accounts (printed once, stored hashed)."""
    return secrets.token_urlsafe(12)


# A hash of a random password: verifying against it when the user does not exist costs the same time as
# a real check, so response times do not reveal which user names exist.
DUMMY_HASH = hash_password(generate_password())
