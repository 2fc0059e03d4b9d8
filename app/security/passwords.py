"""Password hashing with Argon2id (argon2-cffi's recommended parameters: RFC 9106's low-memory
profile, 64 MiB, 3 passes, 4 lanes; OWASP asks for at least 19 MiB). Every hash or check
takes one of PASSWORD_HASH_SLOTS (app.security.throttle), so memory stays bounded."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.security.throttle import hashing_slot

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("familiar-dummy-password")


def hash_password(password: str) -> str:
    """A salted Argon2id hash (different on every call)."""
    with hashing_slot():
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spends the same time and says False."""
    with hashing_slot():
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"the password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password can have at most {MAX_LENGTH} characters"
    return None
