"""The cacheable answers' bytes and validators (unit level; end to end: test_http_caching.py)."""

import json

import pytest
from starlette.requests import Request

from cnop_common.http_cache import conditional, conditional_json, etag_of

pytestmark = pytest.mark.unit


def request(if_none_match: str | None = None) -> Request:
    headers = [(b"if-none-match", if_none_match.encode())] if if_none_match else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_the_body_is_the_same_compact_utf8_json_the_standard_library_writes():
    payload = {"data": [{"asset_id": "BTC", "name": "Bitcoin ₿", "price_usd": "67250.00"}]}
    answer = conditional_json(request(), payload, 5)
    expected = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert answer.body == expected
    assert answer.headers["etag"] == etag_of(expected)


@pytest.mark.parametrize("header", ["{etag}", "W/{etag}", '"x", {etag}', "*"])
def test_a_matching_validator_is_304_without_a_body(header):
    payload = {"data": 1}
    etag = conditional_json(request(), payload, 5).headers["etag"]
    answer = conditional_json(request(header.format(etag=etag)), payload, 5)
    assert answer.status_code == 304
    assert answer.body == b""
    assert answer.headers["cache-control"] == "public, max-age=5"


@pytest.mark.parametrize("header", ["W/{tag}", "{tag}"])
def test_a_weak_validator_is_matched_with_or_without_its_prefix(header):
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" and "x" name the same.
    body = b"<!doctype html>"
    first = conditional(request(), body, "text/html", "no-cache", weak=True)
    assert first.headers["etag"] == f"W/{etag_of(body)}"
    again = conditional(
        request(header.format(tag=etag_of(body))), body, "text/html", "no-cache", weak=True
    )
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]
