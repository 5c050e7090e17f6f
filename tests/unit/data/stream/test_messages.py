from __future__ import annotations

import json

import pytest

from quantstrata.data.stream import MalformedFrame, parse_frame
from quantstrata.data.stream.messages import (
    Acknowledged,
    Depth,
    ErrorMessage,
    Pong,
    Ticker,
    Trade,
)


def test_both_trade_shapes_are_read_with_string_decimals():
    listed = {
        "cmd": "trade",
        "data": {
            "symbol": "700.HK",
            "trades": [
                {"id": "1", "price": "553.000", "quantity": "100", "side": "buy", "timestamp": 5},
                {"id": "2", "price": "553.5", "quantity": "200", "side": "sell", "timestamp": 6},
            ],
        },
    }
    single = {
        "cmd": "trade",
        "data": {
            "symbol": "BU2609",
            "type": "futures",
            "price": "4309",
            "quantity": "1",
            "side": "sell",
            "timestamp": 1784012398000,
            "open_interest_change": 0,
            "position_effect": "short_transfer",
        },
    }
    assert parse_frame(json.dumps(listed)) == [
        Trade("700.HK", 5, 553.0, 100.0, "1"),
        Trade("700.HK", 6, 553.5, 200.0, "2"),
    ]
    (trade,) = parse_frame(json.dumps(single))
    assert trade == Trade(
        "BU2609", 1784012398000, 4309.0, 1.0, (1784012398000, 4309.0, 1.0, "sell")
    )


def test_control_and_market_frames_become_typed_events():
    assert parse_frame('{"cmd":"pong","code":0,"message":"pong","data":{"timestamp":1}}') == [
        Pong()
    ]
    ack = (
        '{"cmd":"subscribe","code":0,"message":"success",'
        '"data":{"channel":"trade","symbols":["A"]}}'
    )
    assert parse_frame(ack) == [Acknowledged("subscribe", "trade", ("A",))]
    ticker = '{"cmd":"ticker","data":{"symbol":"SPX","last_price":"7342.86","timestamp":3}}'
    assert parse_frame(ticker) == [Ticker("SPX", 3, 7342.86)]
    depth = '{"cmd":"depth","data":{"symbol":"B","bids":[["1","2"]],"asks":[],"timestamp":4}}'
    assert parse_frame(depth) == [Depth("B", 4)]


@pytest.mark.parametrize("code", [3001, "3001"])
def test_error_codes_as_int_or_text_carry_the_servers_wait(code: object):
    frame = json.dumps(
        {"cmd": "error", "code": code, "message": "slow", "data": {"retry_after": 2}}
    )
    assert parse_frame(frame) == [ErrorMessage("error", 3001, "slow", 2.0)]


@pytest.mark.parametrize(
    "frame",
    [
        "{not json",
        "[1, 2]",
        '{"cmd":"trade","data":{"symbol":"X"}}',
        '{"cmd":"trade","data":{"symbol":"X","price":"-1","quantity":"1","timestamp":1}}',
        '{"cmd":"trade","data":{"symbol":"X","price":"1","quantity":"1","timestamp":"1"}}',
        '{"cmd":"mystery"}',
        '{"cmd":"pong","code":"zero"}',
    ],
)
def test_malformed_frames_raise_one_exception_type(frame: str):
    with pytest.raises(MalformedFrame):
        parse_frame(frame)
