from __future__ import annotations

import logging
import pickle

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.core.logging import RedactingFilter, get_logger
from quantstrata.core.secrets import MASK, Secret, SecretUrl, looks_like_secret_name, redact

KEY = "tk_live_5f3c9a1e77b04d2a"


def test_secret_never_shows_in_repr_str_or_format():
    secret = Secret(KEY)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert KEY not in text
    assert secret.reveal() == KEY


def test_secret_survives_pickling_for_workers():
    assert pickle.loads(pickle.dumps(Secret(KEY))).reveal() == KEY


def test_empty_or_missing_secrets_are_config_errors(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ConfigError):
        Secret("")
    monkeypatch.delenv("QUANTSTRATA_TEST_KEY", raising=False)
    with pytest.raises(ConfigError, match="QUANTSTRATA_TEST_KEY"):
        Secret.from_environment("QUANTSTRATA_TEST_KEY")
    monkeypatch.setenv("QUANTSTRATA_TEST_KEY", KEY)
    assert Secret.from_environment("QUANTSTRATA_TEST_KEY").reveal() == KEY


@pytest.mark.parametrize(
    "text",
    [
        f"wss://api.tickdb.ai/v1/realtime?api_key={KEY}",
        f"GET /v1/market/kline?symbol=SPX&token={KEY}&limit=10",
        f'headers={{"X-API-Key": "{KEY}"}}',
        f"Authorization: Bearer {KEY}",
    ],
)
def test_redact_masks_key_like_parameters_without_being_told_the_key(text: str):
    masked = redact(text)
    assert KEY not in masked
    assert MASK in masked


def test_redact_masks_known_secrets_anywhere():
    assert redact(f"failed for {KEY}!", [Secret(KEY)]) == f"failed for {MASK}!"


def _refuse_handshake() -> None:
    raise RuntimeError(f"handshake refused for key {KEY}")


def test_logger_records_and_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture):
    logger = get_logger("tests.secrets")
    secret = Secret(KEY)
    logger.filters[0].add_secret(secret)  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="quantstrata"):
        logger.info("connecting to %s", f"wss://host/ws?api_key={KEY}")
        try:
            _refuse_handshake()
        except RuntimeError:
            logger.exception("stream failed")
    assert caplog.records
    assert KEY not in caplog.text
    assert all(KEY not in (record.exc_text or "") for record in caplog.records)


def test_get_logger_attaches_one_filter_and_names_under_the_package():
    first = get_logger("data.catalog")
    second = get_logger("quantstrata.data.catalog")
    assert first is second
    assert first.name == "quantstrata.data.catalog"
    assert sum(isinstance(item, RedactingFilter) for item in first.filters) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api_key", True),
        ("TICKDB_API_KEY", True),
        ("password", True),
        ("access-key", True),
        ("auth_token", True),
        ("cash", False),
        ("fast", False),
        ("symbol", False),
    ],
)
def test_secret_like_setting_names_are_recognised(name: str, expected: bool):
    assert looks_like_secret_name(name) is expected


def test_a_secret_url_masks_its_password_everywhere_but_reveal() -> None:
    url = SecretUrl("postgresql://user:pa:ss@db.example:5432/prod?sslmode=require")
    assert str(url) == "postgresql://user:***@db.example:5432/prod?sslmode=require"
    assert "pa:ss" not in repr(url)
    assert url.has_password
    assert not SecretUrl("postgresql://user@db.example/prod").has_password
    assert url.reveal().startswith("postgresql://user:pa:ss@")
    assert (
        redact("connect to postgres://u:pw1@h/db failed")
        == "connect to postgres://u:***@h/db failed"
    )
