"""The retry policy as data: which failures are retried and how long each wait is."""

import email.utils

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _retries

POL = _retries.policy(max_retries=5, max_delay=60)


@pytest.mark.parametrize("method, status, expected", [
    ("GET", 429, True), ("POST", 429, True), ("POST", 503, True), ("DELETE", 503, True),
    ("GET", 502, True), ("PUT", 504, True), ("DELETE", 502, True),
    ("POST", 502, False), ("POST", 504, False),
    ("GET", 500, False), ("GET", 400, False), ("GET", 401, False), ("GET", 403, False), ("GET", 404, False), ("POST", 409, False),
])
def test_is_retryable_by_status_and_method(method, status, expected):
    assert _retries.is_retryable(method, status) is expected


@pytest.mark.parametrize("method, expected", [("GET", True), ("put", True), ("DELETE", True), ("POST", False), ("PATCH", False)])
def test_dropped_connections_only_for_idempotent_methods(method, expected):
    assert _retries.is_retryable(method, dropped=True) is expected


def test_idempotent_override_for_side_effect_free_posts():
    assert _retries.is_retryable("POST", 502, idempotent=True)
    assert _retries.is_retryable("POST", dropped=True, idempotent=True)
    assert not _retries.is_retryable("GET", 502, idempotent=False)


@pytest.mark.parametrize("value, expected", [("2", 2.0), (" 0.5 ", 0.5), ("-3", 0.0), (None, None), ("soon", None), ("", None)])
def test_retry_after_seconds(value, expected):
    assert _retries.parse_retry_after(value) == expected


def test_retry_after_http_date():
    now = 1_800_000_000.0
    assert _retries.parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert _retries.parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_full_jitter_exponential_backoff():
    # The ceiling doubles from the 1 s base; the wait is uniform below it.
    assert [_retries.backoff(POL, n, rand=lambda: 1.0) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert _retries.backoff(POL, 3, rand=lambda: 0.0) == 0.0
    assert _retries.backoff(POL, 3, rand=lambda: 0.25) == 2.0


def test_each_wait_capped_by_max_delay():
    pol = _retries.policy(max_retries=50, max_delay=10)
    assert _retries.backoff(pol, 40, rand=lambda: 1.0) == 10.0
    assert _retries.next_wait(pol, "GET", 0, status=429, retry_after=120) == 10.0


def test_next_wait_prefers_retry_after_and_stops_at_max_retries():
    assert _retries.next_wait(POL, "POST", 0, status=429, retry_after=2) == 2.0
    assert _retries.next_wait(POL, "GET", 2, status=503, rand=lambda: 0.5) == 2.0
    assert _retries.next_wait(POL, "GET", 5, status=503) is None
    assert _retries.next_wait(POL, "POST", 0, status=502) is None
    assert _retries.next_wait(POL, "GET", 0, status=404) is None
    assert _retries.next_wait(_retries.policy(max_retries=0), "GET", 0, status=503) is None


def test_policy_clamps_nonsense():
    pol = _retries.policy(max_retries=-1, max_delay=-5)
    assert pol.max_retries == 0 and pol.max_delay == 0.0
