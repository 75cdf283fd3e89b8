"""PSRP failures become one clear line naming the option, without the password.

The Windows host here is a real local HTTPS server (ips_https_server) answering what a WinRM
listener would at the transport level (a certificate, a 401, a closed port); pypsrp is not patched.
The cmdlet level (ErrorRecords, tasks) is tested against the lab's Windows-host stand-in
(tests/integration/test_appliance_*.py).
"""

import socket

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _psrp, _retries

from ips_https_server import make_pki, reply, start

PASSWORD = "W1n-Host-Pa55word!"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture()
def winhost(pki, monkeypatch):
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    fake, stop = start(pki)
    yield fake
    stop()


def session(url, **kw):
    port = int(url.rsplit(":", 1)[1])
    kw.setdefault("auth", "basic")
    return _psrp.Session("127.0.0.1", "svc-ips", PASSWORD, port=port, retry_policy=_retries.policy(max_retries=1, max_delay=0),
                         sleep=lambda s: None, **kw)


def test_an_untrusted_certificate_names_ca_path(winhost):
    with pytest.raises(_psrp.PSRPError) as err:
        session(winhost.url).pool
    text = str(err.value)
    assert "the certificate of 127.0.0.1:" in text and "is not trusted" in text and "windows_host.ca_path" in text
    assert err.value.option == "windows_host.ca_path" and PASSWORD not in text


def test_a_refused_password_names_windows_host_password(winhost, pki):
    winhost.api(reply(401, "", {"WWW-Authenticate": "Basic realm=\"WSMAN\""}), reply(401, "", {"WWW-Authenticate": "Basic realm=\"WSMAN\""}))
    with pytest.raises(_psrp.PSRPError) as err:
        session(winhost.url, ca_path=str(pki.ca)).pool
    text = str(err.value)
    assert "windows_host.password (or windows_host.username) was refused by 127.0.0.1:" in text
    assert PASSWORD not in text and err.value.option == "windows_host.password"
    assert winhost.api_requests[0].path == "/wsman"  # it did reach the host, over TLS trusted through ca_path


def test_a_closed_port_names_host_and_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(_psrp.PSRPError) as err:
        session("https://127.0.0.1:%d" % port).pool
    assert "connection was refused" in str(err.value) and "windows_host.host and windows_host.port" in str(err.value)


def test_basic_over_plain_http_is_refused_before_connecting():
    with pytest.raises(_psrp.PSRPError, match="windows_host.auth basic over windows_host.transport http"):
        _psrp.Session("127.0.0.1", "u", PASSWORD, transport="http", auth="basic")


def test_typed_values_are_what_powershell_binds():
    assert (_psrp.typed("int64", 7).tag, _psrp.typed("int64", 7).value) == ("I64", 7)
    assert _psrp.typed("timespan", 90).value == "PT90S"
    assert _psrp.typed("switch", 1) is True
    assert _psrp.typed("string", "a'; Remove-Item x") == "a'; Remove-Item x"


def test_a_busy_host_is_asked_again_then_named_with_its_status(winhost, pki):
    """HTTP.sys answers 503 (or 429) while WinRM is overloaded: nothing was carried out, so opening the pool (and a
    read-only cmdlet) is tried again; when the host stays busy the error names the status."""
    winhost.api(reply(503, ""), reply(429, "", {"Retry-After": "1"}))
    with pytest.raises(_psrp.PSRPError) as err:
        session(winhost.url, ca_path=str(pki.ca)).pool
    text = str(err.value)
    assert "failed again after 1 retries" in text and "answered HTTP 429" in text and PASSWORD not in text, text
    assert len(winhost.api_requests) == 2
