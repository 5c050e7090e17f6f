"""The stream's one-trade fast path gives exactly what the general path gives, frame by frame."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.secrets import Secret
from quantstrata.data.stream import MalformedFrame, StreamConfig, TickDBStream, parse_frame
from quantstrata.data.stream import client as client_module
from quantstrata.data.stream.messages import Trade, decode_frame, one_trade, parse_message

MISSING = object()
MINUTE = 60_000
START = 1_700_000_000_000

_oddities = st.sampled_from([None, True, [1], {"a": 1}, "abc", "", 1.5, -3])


def _mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Draw ``valid`` three times in four, else ``odd`` or (one time in twenty) no field."""
    return st.integers(0, 19).flatmap(
        lambda roll: valid if roll > 4 else (odd if roll > 0 else st.just(MISSING))
    )


_timestamps = _mostly(
    st.integers(0, 7).map(lambda step: START + step * 25_000),  # repeats, late, new bars
    st.one_of(
        st.integers(0, 5).map(lambda step: str(START + step * 25_000)),
        st.floats(allow_nan=False, allow_infinity=False),
        _oddities,
    ),
)
_decimals = _mostly(
    st.sampled_from(["100.5", "553.000", "1e3", "7", "0.25"]),
    st.one_of(
        st.sampled_from(["0", "-1", "nan", "NaN", "inf", "-inf", " 7 ", "1_0", "x"]),
        st.sampled_from([0, -1, 0.0, -0.0, 1e308, 5]),
        st.floats(allow_nan=True, allow_infinity=True),
        _oddities,
    ),
)
_ids = _mostly(st.one_of(st.sampled_from(["1", "2", "3"]), st.integers(0, 3)), _oddities)
_sides = _mostly(st.sampled_from(["buy", "sell"]), _oddities)
_symbols = _mostly(st.sampled_from(["BTCUSDT", "700", "00700", "700.HK", "ETHUSDT"]), _oddities)


def _put(target: dict[str, Any], name: str, value: object) -> None:
    if value is not MISSING:
        target[name] = value


@st.composite
def _rows(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 30)) == 0:
        return draw(_oddities)
    row: dict[str, Any] = {}
    for name, values in [
        ("timestamp", _timestamps),
        ("price", _decimals),
        ("quantity", _decimals),
        ("id", _ids),
        ("side", _sides),
    ]:
        _put(row, name, draw(values))
    if draw(st.booleans()):  # no id: the key is made of the trade's fields
        row.pop("id", None)
    return row


@st.composite
def _frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["flat", "listed", "listed", "other", "raw"]))
    if kind == "raw":
        return draw(st.sampled_from([b"{not json", b"[1, 2]", b"\xff\xfe", b"null", b'"trade"']))
    if kind == "other":
        frame: object = draw(
            st.sampled_from(
                [
                    {"cmd": "pong", "code": 0, "data": {}},
                    {"cmd": "subscribe", "code": 0, "data": {"channel": "trade"}},
                    {"cmd": "ticker", "data": {"symbol": "A", "last_price": "1", "timestamp": 1}},
                    {"cmd": "mystery"},
                    {"cmd": "trade"},
                    {"cmd": "trade", "data": [1]},
                ]
            )
        )
    else:
        data: dict[str, Any] = {}
        _put(data, "symbol", draw(_symbols))
        if kind == "flat":
            row = draw(_rows())
            data.update(row if isinstance(row, dict) else {"price": row})
        else:
            rows = st.lists(_rows(), max_size=3)
            one = st.lists(_rows(), min_size=1, max_size=1)
            _put(data, "trades", draw(_mostly(one, rows)))
        frame = {"cmd": "trade", "data": data}
    return json.dumps(frame).encode()


def _same(left: object, right: object) -> bool:
    """Compare like ``==``, but a NaN equals a NaN (a key may hold one)."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and left == right


@settings(max_examples=600)
@given(_frames())
def test_one_trade_accepts_only_what_the_general_path_reads_as_that_trade(text: bytes):
    try:
        message = decode_frame(text)
    except MalformedFrame:
        return
    try:
        events = parse_message(message)
    except MalformedFrame:
        assert one_trade(message) is None
        return
    fast = one_trade(message)
    if fast is not None:
        assert len(events) == 1
        assert type(events[0]) is Trade
        assert _same(fast, tuple(events[0]))


def _stream(tolerance_ms: int) -> TickDBStream:
    async def no_rest(*_: object) -> object:
        raise AssertionError("no backfill in this test")

    config = StreamConfig(url="ws://127.0.0.1:1/v1/realtime", late_tolerance_ms=tolerance_ms)
    return TickDBStream(Secret("k"), ["BTCUSDT", "700.HK"], "1m", no_rest, config=config)  # type: ignore[arg-type]


def _observe(stream: TickDBStream) -> tuple[object, ...]:
    counters = stream.counters
    return (
        counters.messages,
        counters.malformed,
        counters.duplicates,
        counters.late,
        stream.session._last_data,
        dict(stream._aliases),
    )


@settings(max_examples=300)
@given(st.lists(_frames(), max_size=40), st.sampled_from([0, 30_000]))
def test_the_client_gives_the_same_bars_and_counters_with_and_without_the_fast_path(
    frames: list[bytes], tolerance_ms: int
):
    fast, general = _stream(tolerance_ms), _stream(tolerance_ms)
    for moment, text in enumerate(frames):
        expected = _general_handle(general, text, float(moment))
        assert fast._handle(text, float(moment)) == expected
        assert _observe(fast) == _observe(general)
    assert fast.builder.advance(10**13) == general.builder.advance(10**13)


def _general_handle(stream: TickDBStream, text: bytes, now: float) -> object:
    original = client_module.one_trade
    client_module.one_trade = lambda _: None  # type: ignore[assignment]
    try:
        return stream._handle(text, now)
    finally:
        client_module.one_trade = original


@pytest.mark.parametrize(
    "row",
    [
        {"id": [1], "price": "1", "quantity": "1", "timestamp": START},
        {"id": {"a": 1}, "price": "1", "quantity": "1", "timestamp": START},
        {"price": "1", "quantity": "1", "side": ["buy"], "timestamp": START},
    ],
)
def test_an_unhashable_trade_key_is_a_malformed_frame_not_a_crash(row: dict[str, object]):
    for data in ({"symbol": "BTCUSDT", **row}, {"symbol": "BTCUSDT", "trades": [row]}):
        text = json.dumps({"cmd": "trade", "data": data})
        with pytest.raises(MalformedFrame):
            parse_frame(text)
        stream = _stream(0)
        assert stream._handle(text.encode(), 1.0) == []
        assert stream.counters.malformed == 1


def test_the_fast_path_reads_both_trade_shapes():
    listed = {
        "symbol": "700",
        "trades": [{"id": 7, "price": "5.5", "quantity": "2", "timestamp": 9}],
    }
    flat = {"symbol": "BU2609", "price": "4309", "quantity": "1", "side": "sell", "timestamp": 3}
    assert one_trade({"cmd": "trade", "data": listed}) == ("700", 9, 5.5, 2.0, 7)
    assert one_trade({"cmd": "trade", "data": flat}) == (
        "BU2609",
        3,
        4309.0,
        1.0,
        (3, 4309.0, 1.0, "sell"),
    )


@pytest.mark.parametrize(
    "row",
    [
        {"id": "1", "price": "1.5", "quantity": "0", "side": "buy", "timestamp": START},
        {"id": 2, "price": 3, "quantity": 0.5, "timestamp": START},
        {"price": "1", "quantity": "2", "timestamp": START},  # no id, no side
        {"id": None, "price": "1", "quantity": "2", "side": "sell", "timestamp": START},
    ],
)
def test_ordinary_one_trade_frames_take_the_fast_path(row: dict[str, object]):
    for data in ({"symbol": "700", **row}, {"symbol": "700", "trades": [row]}):
        message = decode_frame(json.dumps({"cmd": "trade", "data": data}))
        assert one_trade(message) == tuple(parse_message(message)[0])
