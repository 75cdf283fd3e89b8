"""The Windows host's doors: HTTPS with the lab CA, Windows credentials (Basic, NTLM), the appliance's own
credentials checked by Connect-AlAppliance, its session (per runspace pool, expiring), reset."""

import pytest
import requests
from pypsrp.exceptions import AuthenticationError
from pypsrp.powershell import RunspacePool
from winhost_helpers import errors, error_ids, run


@pytest.mark.parametrize("auth", ["basic", "ntlm", "negotiate"])
def test_windows_credentials_open_a_pool_and_run_cmdlets(winhost, auth):
    with winhost.pool(auth=auth) as pool:
        out, ps = run(pool, "Get-AlConnectorConfig", Name=winhost.env["IPS_LAB_AL_CONNECTOR_AZURE"])
    assert not ps.had_errors, errors(ps)
    assert [(o["Name"], o["Type"]) for o in out] == [(winhost.env["IPS_LAB_AL_CONNECTOR_AZURE"], "Image Portability for Azure")]
    assert len(out[0]["Id"]) == 36


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
def test_a_wrong_windows_password_is_refused(winhost, auth):
    with pytest.raises(AuthenticationError):
        with RunspacePool(winhost.wsman(auth=auth, password="not-the-password")):
            pass
    assert winhost.admin.calls() == []


def test_a_certificate_the_client_does_not_trust_is_refused(winhost):
    # cert_validation=True: the system CAs only, which do not know the lab CA
    with pytest.raises(requests.exceptions.SSLError):
        with RunspacePool(winhost.wsman(cert_validation=True)):
            pass


def test_the_appliance_password_is_checked_and_never_echoed(winhost):
    wrong = "Wrong-" + winhost.env["IPS_LAB_APPLIANCE_PASSWORD"][::-1]
    with winhost.pool(connect=False) as pool:
        out, ps = run(pool, "Connect-AlAppliance", Address=winhost.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential=winhost.credential(wrong),
                      IgnoreCertificateErrors=True)
        assert ps.had_errors and out == []
        assert error_ids(ps) == ["InvalidCredentials,Connect-AlAppliance"]
        assert "user name or password is incorrect" in errors(ps)[0]
        # not connected: the next cmdlet names Connect-AlAppliance
        out, ps = run(pool, "Get-AlConnectorConfig")
        assert ps.had_errors and error_ids(ps) == ["NotConnected,Get-AlConnectorConfig"]
        assert "Connect-AlAppliance" in errors(ps)[0]
    calls = winhost.admin.calls()
    assert calls[0]["parameters"]["Credential"] == {"type": "System.Management.Automation.PSCredential",
                                                    "value": {"UserName": winhost.env["IPS_LAB_APPLIANCE_USER"], "Password": "********"}}
    text = repr(calls) + repr(errors(ps))
    assert wrong not in text and winhost.env["IPS_LAB_APPLIANCE_PASSWORD"] not in text


def test_a_self_signed_appliance_needs_ignore_certificate_errors_and_the_right_address(winhost):
    with winhost.pool(connect=False) as pool:
        out, ps = run(pool, "Connect-AlAppliance", Address=winhost.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential=winhost.credential())
        assert error_ids(ps) == ["CertificateError,Connect-AlAppliance"] and "-IgnoreCertificateErrors" in errors(ps)[0]
        out, ps = run(pool, "Connect-AlAppliance", Address="no-such-appliance.test", Credential=winhost.credential(),
                      IgnoreCertificateErrors=True)
        assert error_ids(ps) == ["ConnectionFailed,Connect-AlAppliance"]
        out, ps = run(pool, "Connect-AlAppliance", Address=winhost.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential=winhost.credential(),
                      IgnoreCertificateErrors=True)
        assert not ps.had_errors
        assert out[0]["Address"] == winhost.env["IPS_LAB_APPLIANCE_ADDRESS"] and len(out[0]["Id"]) == 36


def test_the_session_belongs_to_its_runspace_pool(winhost):
    with winhost.pool() as first:
        with winhost.pool(connect=False) as second:
            _out, ps = run(second, "Get-AlTask")
            assert error_ids(ps) == ["NotConnected,Get-AlTask"]
        _out, ps = run(first, "Get-AlTask")
        assert not ps.had_errors, errors(ps)


def test_an_expired_session_is_refused_until_connect_runs_again(winhost):
    with winhost.pool() as pool:
        assert winhost.admin.host_fault("expire_sessions") is None
        _out, ps = run(pool, "Get-AlConnectorConfig")
        assert ps.had_errors and error_ids(ps) == ["SessionTimeout,Get-AlConnectorConfig"]
        assert "Connect-AlAppliance" in errors(ps)[0]
        # the idle timeout on the lab clock expires it too
        run(pool, "Connect-AlAppliance", Address=winhost.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential=winhost.credential(),
            IgnoreCertificateErrors=True)
        _out, ps = run(pool, "Get-AlTask")
        assert not ps.had_errors
        winhost.admin.advance_clock(winhost.admin.config()["session_ttl_seconds"] + 1)
        _out, ps = run(pool, "Get-AlTask")
        assert error_ids(ps) == ["SessionTimeout,Get-AlTask"]


def test_reset_forgets_sessions(winhost):
    with winhost.pool() as pool:
        winhost.admin.reset()
        _out, ps = run(pool, "Get-AlConnectorConfig")
    assert ps.had_errors and error_ids(ps)[0] in ("NotConnected,Get-AlConnectorConfig", "SessionTimeout,Get-AlConnectorConfig")
