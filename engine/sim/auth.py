"""Kalshi request authentication, checked exactly as the exchange documents it.

RSA-PSS with SHA-256, MGF1-SHA-256 and a salt as long as the digest, over ``timestamp_ms + METHOD + path``
where the path starts at ``/trade-api/`` and carries no query string. A missing header, an unknown key,
a bad signature or a timestamp outside the window are all the same answer to the caller: 401.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"


class AuthError(Exception):
    """Why a request was refused; the text goes back in the 401 body and never contains the signature."""


@lru_cache(maxsize=1)
def _process_key() -> rsa.RSAPrivateKey:
    """One RSA key per process: generating 2048-bit keys per test would dominate the test time."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True, slots=True)
class Credentials:
    key_id: str
    private_key_path: Path
    public_key: rsa.RSAPublicKey


def issue_credentials(directory: Path, key_id: str | None = None) -> Credentials:
    """Write a PEM private key (mode 0600) into ``directory`` and return the id the server will trust."""
    key = _process_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = directory / "kalshi-sim-key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)
    return Credentials(key_id or str(uuid.uuid4()), path, key.public_key())


def sign(private_key: rsa.RSAPrivateKey, timestamp_ms: str, method: str, path: str) -> str:
    """The reference signer (used by the simulator's own tests and demos, not by the clients)."""
    message = (timestamp_ms + method.upper() + path.split("?", 1)[0]).encode()
    signature = private_key.sign(
        message,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )
    return base64.b64encode(signature).decode()


def verify(
    creds: Credentials,
    headers: dict[str, str],
    method: str,
    path: str,
    now_ms: int,
    window_ms: int,
) -> None:
    """Raise :class:`AuthError` unless the three headers sign ``method`` + ``path`` at a fresh timestamp."""
    key_id = headers.get(KEY_HEADER)
    stamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not key_id or not stamp or not signature:
        raise AuthError("missing KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP or KALSHI-ACCESS-SIGNATURE header")
    if key_id != creds.key_id:
        raise AuthError("unknown API key id")
    if not stamp.isdigit():
        raise AuthError("KALSHI-ACCESS-TIMESTAMP must be integer milliseconds")
    if abs(now_ms - int(stamp)) > window_ms:
        raise AuthError("stale request timestamp")
    if not path.startswith("/trade-api/"):
        raise AuthError("signed path must start with /trade-api/")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise AuthError("KALSHI-ACCESS-SIGNATURE is not standard base64") from None
    message = (stamp + method.upper() + path).encode()
    try:
        creds.public_key.verify(
            raw,
            message,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise AuthError("invalid signature") from None
