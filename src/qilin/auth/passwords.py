"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for generated accounts (printed once, stored hashed)."""
    return secrets.token_urlsafe(12)


# A hash of a random password: verifying against it when the user does not exist costs the same time as
# a real check, so response times do not reveal which user names exist.
DUMMY_HASH = hash_password(generate_password())
