"""Kalshi signing: verified with ``cryptography`` against the public key, path signed without its query."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from engine.connectors.errors import KeyFileError
from engine.connectors.kalshi.signing import (
    ACCESS_KEY,
    ACCESS_SIGNATURE,
    ACCESS_TIMESTAMP,
    KalshiSigner,
    load_private_key,
    redact_headers,
    signing_path,
)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_pem(path: Path, key: rsa.RSAPrivateKey, mode: int) -> Path:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    os.chmod(path, mode)
    return path


def _verify(key: rsa.RSAPrivateKey, signature_b64: str, message: str) -> None:
    key.public_key().verify(
        base64.b64decode(signature_b64, validate=True),
        message.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size),
        hashes.SHA256(),
    )


def test_signature_verifies_for_path_without_query(key: rsa.RSAPrivateKey) -> None:
    signer = KalshiSigner("key-id-1", key)
    url = "https://example.invalid/trade-api/v2/portfolio/orders?limit=5&status=resting"
    headers = signer.headers("get", url, 1703123456789)
    assert headers[ACCESS_KEY] == "key-id-1"
    assert headers[ACCESS_TIMESTAMP] == "1703123456789"
    _verify(key, headers[ACCESS_SIGNATURE], "1703123456789GET/trade-api/v2/portfolio/orders")
    with pytest.raises(InvalidSignature):
        _verify(key, headers[ACCESS_SIGNATURE], "1703123456789GET/trade-api/v2/portfolio/orders?limit=5&status=resting")


def test_signature_binds_method_timestamp_and_path(key: rsa.RSAPrivateKey) -> None:
    signer = KalshiSigner("k", key)
    sig = signer.headers("POST", "/trade-api/v2/portfolio/events/orders", 5)[ACCESS_SIGNATURE]
    _verify(key, sig, "5POST/trade-api/v2/portfolio/events/orders")
    for wrong in ("6POST/trade-api/v2/portfolio/events/orders", "5GET/trade-api/v2/portfolio/events/orders"):
        with pytest.raises(InvalidSignature):
            _verify(key, sig, wrong)


def test_signing_path_strips_query_and_keeps_root() -> None:
    assert signing_path("http://127.0.0.1:9/trade-api/v2/markets?cursor=abc") == "/trade-api/v2/markets"
    assert signing_path("/trade-api/ws/v2") == "/trade-api/ws/v2"


def test_loads_private_key_file(tmp_path: Path, key: rsa.RSAPrivateKey) -> None:
    path = _write_pem(tmp_path / "k.pem", key, 0o600)
    loaded = load_private_key(path)
    assert loaded.public_key().public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_refuses_key_readable_by_others(tmp_path: Path, key: rsa.RSAPrivateKey, mode: int) -> None:
    path = _write_pem(tmp_path / "k.pem", key, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_private_key(path)


def test_missing_and_garbage_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_private_key(tmp_path / "absent.pem")
    garbage = tmp_path / "g.pem"
    garbage.write_text("not a key")
    os.chmod(garbage, 0o600)
    with pytest.raises(KeyFileError, match="not an unencrypted PEM"):
        load_private_key(garbage)


def test_secrets_never_in_repr_or_redacted_headers(key: rsa.RSAPrivateKey) -> None:
    signer = KalshiSigner("secret-key-id", key)
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance", 1)
    assert "secret" not in repr(signer)
    safe = redact_headers({**headers, "Accept": "application/json"})
    assert headers[ACCESS_SIGNATURE] not in str(safe)
    assert "secret-key-id" not in str(safe)
    assert safe["Accept"] == "application/json"
