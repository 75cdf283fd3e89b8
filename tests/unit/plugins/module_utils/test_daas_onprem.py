"""The DaaS client on premises (a Delivery Controller's Orchestration API): the administrator's sign-in, the routes
under /{customer}/{site}/, token renewal, and errors that name the option and hold no secret; against the lab's DaaS
stand-in run in-process (its on-premises base, with its own admin account)."""

import secrets
import uuid

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _auth
from ansible_collections.citrix_community.ips.plugins.module_utils._daas_client import DaasClient, from_params
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Waiter

ips_lab_server = pytest.importorskip("ips_lab.citrix.server", reason="the lab package (make setup installs it) is needed")

ADMIN = "LAB\\ctxadmin"


@pytest.fixture()
def lab(tmp_path):
    config = {"host": "127.0.0.1", "port": 0, "customer_id": "cust" + secrets.token_hex(3), "client_id": str(uuid.uuid4()),
              "client_secret": "cs-" + secrets.token_hex(16), "admin_token": "adm-" + secrets.token_hex(16),
              "resource_location_ids": [str(uuid.uuid4())], "smb": {"port": 445}, "token_ttl": 600, "job_seconds": 1,
              "daas_job_seconds": 0, "daas_admin_user": ADMIN, "daas_admin_password": "pw-" + secrets.token_hex(12)}
    server = ips_lab_server.start_in_thread(str(tmp_path / "state"), config)
    server.config = config
    yield server
    server.stop()


def onprem_client(lab, password=None, **kwargs):
    return DaasClient(daas_url=lab.url + "/citrix/orchestration/api", username=ADMIN, password=password or lab.config["daas_admin_password"],
                      ca_path=lab.ca_path, retry_max_delay=1, **kwargs)


def recorded_paths(lab):
    return [call["path"] for call in lab.admin.requests()]


def test_signs_in_finds_the_site_and_calls_under_it(lab):
    client = onprem_client(lab)
    names = [c["Name"] for c in client.items("catalogs")]
    assert "lab-mcs-catalog" in names
    site = lab.lab.daas.site_id
    assert client.site_id == site and client.customer_id == "CitrixOnPremises"
    job = client.submit("image_definition_create", body={"Name": "onprem-def", "OsType": "Windows", "VDASessionSupport": "SingleSession"})
    assert client.wait(job, Waiter(30, 1), "create the definition")["state"] == "complete"
    assert client.get("image_definition", {"definition": "onprem-def"})["Name"] == "onprem-def"
    paths = recorded_paths(lab)
    base = "/citrix/orchestration/api/"
    assert paths[:3] == [base + "tokens", base + "me", base + "CitrixOnPremises/%s/MachineCatalogs" % site], paths
    assert all(p.startswith(base) for p in paths) and paths.count(base + "tokens") == 1


def test_an_expired_token_is_renewed(lab):
    client = onprem_client(lab)
    client.items("catalogs")
    lab.admin.advance_clock(601)
    assert client.items("catalogs")
    assert recorded_paths(lab).count("/citrix/orchestration/api/tokens") == 2


def test_a_wrong_password_names_the_options_and_hides_the_secret(lab):
    wrong = "wrong-" + secrets.token_hex(8)
    with pytest.raises(IPSError) as err:
        onprem_client(lab, password=wrong).items("catalogs")
    text = str(err.value)
    assert "daas_username" in text and "daas_password" in text and "HTTP 401" in text
    assert wrong not in text and lab.config["daas_admin_password"] not in text


def test_options_needed_on_premises():
    params = {"daas_username": ADMIN, "daas_password": None, "daas_url": "https://ddc.example.com/citrix/orchestration/api",
              "site_id": None, "customer_id": None, "client_id": None, "client_secret": None, "region": "us", "api_url": None,
              "validate_certs": True, "ca_path": None, "request_timeout": 60, "max_retries": 5, "retry_max_delay": 60, "token_cache": False}
    with pytest.raises(IPSError, match="daas_password"):
        from_params(params)
    with pytest.raises(IPSError, match="set daas_url"):
        from_params(dict(params, daas_password="x", daas_url=None))
    client = from_params(dict(params, daas_password="x", site_id="s1"))  # no Citrix Cloud API client needed
    assert client.onprem and client._scope("catalogs") == "citrix/orchestration/api/CitrixOnPremises/s1/"  # pylint: disable=protected-access
    assert client._scope("me") == "citrix/orchestration/api/"  # pylint: disable=protected-access
    assert client._scope("site") == "citrix/orchestration/api/CitrixOnPremises/"  # pylint: disable=protected-access


@pytest.mark.parametrize("text, epoch", [("2026-12-07T16:00:00Z", 1796659200.0), ("2026-12-07T17:00:00+01:00", 1796659200.0),
                                         ("2026-12-07T16:00:00.5000000Z", 1796659200.5), ("soon", None), (None, None)])
def test_expires_at_is_read_as_rfc3339(text, epoch):
    assert _auth._epoch(text) == epoch  # pylint: disable=protected-access


def test_the_token_lifetime_comes_from_expires_at():
    now = [1000.0]
    answer = {"Token": "t1", "ExpiresAt": "1970-01-01T01:00:00Z"}
    creds = _auth.AdminCredentials("CitrixOnPremises", "u", "p", lambda path, form: answer, "tokens", wall=lambda: 1600.0, clock=lambda: now[0])
    assert creds.token() == "t1" and creds.expires_in() == pytest.approx(2000.0)
    assert "p" in creds.secrets() and creds.basic() == "Basic dTpw" and "dTpw" in creds.secrets()
