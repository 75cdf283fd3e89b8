"""Fixtures for the module_utils tests: a real local HTTPS Citrix Cloud stand-in (ips_https_server)
and an IPSClient pointed at it.

Only time is faked: the client's `sleep` records waits instead of sleeping and its `clock` is a
counter the test advances, so back-off and token expiry are tested without real waiting.
"""

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._client import IPSClient

from ips_https_server import CLIENT_ID, CUSTOMER, SECRET, make_pki, start


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture()
def cloud(pki, monkeypatch):
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    fake, stop = start(pki)
    yield fake
    stop()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture()
def clock():
    return FakeClock()


@pytest.fixture()
def sleeps():
    """The waits the client asked for, in order (injected instead of time.sleep)."""
    return []


@pytest.fixture()
def make_client(cloud, pki, clock, sleeps):
    def make(**kwargs):
        options = dict(customer_id=CUSTOMER, client_id=CLIENT_ID, client_secret=SECRET, api_url=cloud.url, ca_path=str(pki.ca),
                       request_timeout=5, max_retries=3, retry_max_delay=60, sleep=sleeps.append, clock=clock, rand=lambda: 0.5)
        options.update(kwargs)
        return IPSClient(**options)
    return make
