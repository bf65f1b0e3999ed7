"""Signature checks exactly as Kalshi documents them, and the server-side token bucket and cursors."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.sim.auth import AuthError, Credentials, issue_credentials, sign, verify
from engine.sim.pagination import CursorError, decode_cursor, encode_cursor, page
from engine.sim.ratelimit import TokenBucket

PATH = "/trade-api/v2/portfolio/orders"
NOW = 1_800_000_000_000


def _setup(tmp_path: Path) -> tuple[Credentials, rsa.RSAPrivateKey]:
    creds = issue_credentials(tmp_path, key_id="key-1")
    key = serialization.load_pem_private_key(creds.private_key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return creds, key


def _headers(key: rsa.RSAPrivateKey, stamp: int, method: str, path: str) -> dict[str, str]:
    return {
        "KALSHI-ACCESS-KEY": "key-1",
        "KALSHI-ACCESS-TIMESTAMP": str(stamp),
        "KALSHI-ACCESS-SIGNATURE": sign(key, str(stamp), method, path),
    }


def test_valid_signature_passes_and_query_is_not_signed(tmp_path: Path) -> None:
    creds, key = _setup(tmp_path)
    verify(creds, _headers(key, NOW, "POST", PATH), "POST", PATH, NOW, 10_000)
    # the reference signer drops a query string, as clients must
    verify(creds, _headers(key, NOW, "GET", PATH + "?limit=5"), "GET", PATH, NOW, 10_000)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h: {**h, "KALSHI-ACCESS-KEY": "other"}, "unknown"),
        (lambda h: {k: v for k, v in h.items() if k != "KALSHI-ACCESS-SIGNATURE"}, "missing"),
        (lambda h: {**h, "KALSHI-ACCESS-SIGNATURE": "%%%"}, "base64"),
        (lambda h: {**h, "KALSHI-ACCESS-TIMESTAMP": str(NOW + 1)}, "invalid signature"),
        (lambda h: {**h, "KALSHI-ACCESS-TIMESTAMP": "12ab"}, "milliseconds"),
        (
            lambda h: {**h, "KALSHI-ACCESS-SIGNATURE": base64.b64encode(b"x" * 256).decode()},
            "invalid signature",
        ),
    ],
)
def test_bad_headers_are_refused(tmp_path: Path, mutate: object, reason: str) -> None:
    creds, key = _setup(tmp_path)
    headers = mutate(_headers(key, NOW, "GET", PATH))  # type: ignore[operator]
    with pytest.raises(AuthError, match=reason):
        verify(creds, headers, "GET", PATH, NOW, 10_000)


def test_method_path_and_staleness_are_checked(tmp_path: Path) -> None:
    creds, key = _setup(tmp_path)
    headers = _headers(key, NOW, "GET", PATH)
    with pytest.raises(AuthError, match="invalid signature"):
        verify(creds, headers, "DELETE", PATH, NOW, 10_000)
    with pytest.raises(AuthError, match="invalid signature"):
        verify(creds, headers, "GET", "/trade-api/v2/portfolio/fills", NOW, 10_000)
    with pytest.raises(AuthError, match="stale"):
        verify(creds, headers, "GET", PATH, NOW + 10_001, 10_000)
    with pytest.raises(AuthError, match="trade-api"):
        verify(creds, _headers(key, NOW, "GET", "/v2/x"), "GET", "/v2/x", NOW, 10_000)


def test_key_file_is_owner_only(tmp_path: Path) -> None:
    creds, _ = _setup(tmp_path)
    assert creds.private_key_path.stat().st_mode & 0o077 == 0


def test_token_bucket_spends_refills_and_caps() -> None:
    bucket = TokenBucket(rate=100.0, capacity=100.0)
    assert all(bucket.take(10, now=5.0) for _ in range(10))
    assert not bucket.take(10, now=5.0)
    assert not bucket.take(10, now=5.05)  # 5 tokens back: not enough, and nothing spent
    assert bucket.take(10, now=5.1)
    assert bucket.take(100, now=100.0) and not bucket.take(1, now=100.0)  # never above capacity


def test_cursor_pages_cover_everything_once() -> None:
    items = list(range(23))
    out: list[int] = []
    cursor = ""
    while True:
        chunk, cursor = page(items, cursor, 5)
        out.extend(chunk)
        if not cursor:
            break
    assert out == items
    assert decode_cursor(encode_cursor(17)) == 17
    for bad in ("nope", encode_cursor(3)[:-2] + "!!", "b2Zmc2V0Ong="):
        with pytest.raises(CursorError):
            decode_cursor(bad)
