"""Teachers' API keys at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
``cryptography`` package), never stored or shown in clear.

The Fernet key is derived with HKDF-SHA256 from LAB_SECRET_KEY when it is set, else from the
secret that already signs session cookies (SECRET_KEY, or the DATA_DIR/secret_key file that
``app.security.sessions`` creates once). Why derive rather than add a second key file: a
default install then has one secret to back up, and the HKDF ``info`` separates the two
uses (a cookie signature never reveals the encryption key and the other way round). Why
LAB_SECRET_KEY exists at all: rotating SECRET_KEY signs everybody out, which is fine, but
would also make every stored API key unreadable; with LAB_SECRET_KEY set the two rotate
independently. A key that no longer decrypts is reported as "set but unreadable: enter it
again", never as the ciphertext or a traceback.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import Settings, get_settings

INFO = b"familiar/lab/teacher-api-keys/v1"


class KeyUnreadable(ValueError):
    """A stored API key that the current secret cannot decrypt (the secret changed)."""


def _fernet(settings: Settings | None = None) -> Fernet:
    from app.security.sessions import secret_key

    settings = settings or get_settings()
    if settings.lab_secret_key is not None:
        material = settings.lab_secret_key.get_secret_value()
    else:
        material = secret_key(settings)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(
        material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_key(plain: str, settings: Settings | None = None) -> str:
    return _fernet(settings).encrypt(plain.encode()).decode("ascii")


def decrypt_key(token: str, settings: Settings | None = None) -> str:
    try:
        return _fernet(settings).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise KeyUnreadable(
            "the stored API key cannot be decrypted with the current LAB_SECRET_KEY / "
            "SECRET_KEY (was it changed?): enter the key again"
        ) from None


def last4(plain: str) -> str | None:
    """The last 4 characters, shown as a hint, only for keys long enough (>= 12) that 4
    characters reveal little; shorter keys show nothing."""
    return plain[-4:] if len(plain) >= 12 else None
