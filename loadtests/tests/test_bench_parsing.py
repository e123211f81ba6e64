"""The benchmark reads wrk's report correctly (its figures are only as good as this)."""

import pytest

from cnop_loadtests.gateway_bench import parse_wrk

pytestmark = pytest.mark.unit

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:12080/api/v1/balance
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.03ms  21.40ms   90.12%
    Req/Sec     3.13k   210.44     3.50k    71.00%
  Latency Distribution
     50%    4.98ms
     75%    5.40ms
     90%    6.02ms
     99%    9.87ms
  31234 requests in 10.00s, 7.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   3123.40
Transfer/sec:    729.12KB
"""


def test_parse_wrk_report():
    result = parse_wrk("x", WRK_OUTPUT)
    assert result.requests_per_second == 3123.40
    assert result.p50_ms == pytest.approx(4.98)
    assert result.p99_ms == pytest.approx(9.87)
    assert result.non_2xx == 3


def test_parse_wrk_units():
    text = WRK_OUTPUT.replace("4.98ms", "812.00us").replace("9.87ms", "1.20s")
    result = parse_wrk("x", text)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == pytest.approx(1200)


def test_parse_wrk_refuses_a_report_without_percentiles():
    with pytest.raises(ValueError, match="50th"):
        parse_wrk("x", "Requests/sec:   10.0\n")
