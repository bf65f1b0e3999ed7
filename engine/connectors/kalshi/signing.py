"""Kalshi request signing: RSA-PSS, SHA-256, MGF1(SHA-256), salt = digest length, standard base64.

The signed message is ``timestamp_ms + METHOD + path`` where ``path`` starts at ``/trade-api/...`` and carries
no query string. The private key and the signatures never appear in a repr, an error or a log line.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from engine.connectors.errors import KeyFileError

ACCESS_KEY = "KALSHI-ACCESS-KEY"
ACCESS_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
ACCESS_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"
AUTH_HEADERS = frozenset({ACCESS_KEY, ACCESS_TIMESTAMP, ACCESS_SIGNATURE})

MIN_KEY_BITS = 2048
"""Shorter RSA keys are no longer considered safe (NIST SP 800-131A) and below 528 bits cannot sign at all."""

PSS_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def check_key_file(path: Path) -> None:
    """Refuse a key file that is missing or that group or others may read: a leaked key trades the account."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"Kalshi private key file {path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"Kalshi private key file {path} cannot be inspected: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise KeyFileError(f"Kalshi private key path {path} is not a regular file")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"Kalshi private key file {path} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )


def load_private_key(path: Path | str) -> rsa.RSAPrivateKey:
    """Load an unencrypted PEM RSA key after checking the file is private."""
    p = Path(path).expanduser()
    check_key_file(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"Kalshi private key file {p} cannot be read: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(f"Kalshi private key file {p} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"Kalshi private key file {p} holds a {type(key).__name__}, not an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise KeyFileError(
            f"Kalshi private key file {p} holds a {key.key_size}-bit RSA key; at least {MIN_KEY_BITS} bits needed"
        )
    return key


def signing_path(url_or_path: str) -> str:
    """The path Kalshi signs: the URL path from the root, query string and fragment removed."""
    return urlsplit(url_or_path).path


def sign_message(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode("utf-8"), PSS_PADDING, hashes.SHA256())).decode("ascii")


class KalshiSigner:
    """Builds the three ``KALSHI-ACCESS-*`` headers for one request. The timestamp is passed in (pure)."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key_id: str, private_key: rsa.RSAPrivateKey) -> None:
        if not key_id:
            raise KeyFileError("Kalshi key id is empty (set KALSHI_KEY_ID)")
        self.key_id = key_id
        self._key = private_key

    @classmethod
    def from_file(cls, key_id: str, path: Path | str) -> KalshiSigner:
        return cls(key_id, load_private_key(path))

    def headers(self, method: str, url_or_path: str, timestamp_ms: int) -> dict[str, str]:
        ts = str(timestamp_ms)
        signature = sign_message(self._key, ts + method.upper() + signing_path(url_or_path))
        return {ACCESS_KEY: self.key_id, ACCESS_TIMESTAMP: ts, ACCESS_SIGNATURE: signature}

    def __repr__(self) -> str:
        return "KalshiSigner(<key hidden>)"


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy safe to log: auth headers replaced by a marker."""
    return {k: ("<redacted>" if k.upper() in AUTH_HEADERS else v) for k, v in headers.items()}
