"""The OAuth client-credentials token: request shape, lifetime, renewal margin, invalidation."""

from urllib.parse import parse_qs

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _auth
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSAuthError


class Issuer:
    """Stands in for the HTTP POST (the real one is exercised in test_client.py)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, path, form):
        self.calls.append((path, form))
        return self.answers.pop(0)


class Clock:
    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


def creds(issuer, clock=None, customer="cust 1/x"):
    return _auth.ClientCredentials(customer, "cid", "csecret", issuer, clock=clock or Clock())


def test_path_and_form():
    issuer = Issuer({"access_token": "t1", "expires_in": "3600"})
    c = creds(issuer)
    assert c.token() == "t1"
    path, form = issuer.calls[0]
    assert path == "cctrustoauth2/cust%201%2Fx/tokens/clients"
    assert parse_qs(form.decode()) == {"grant_type": ["client_credentials"], "client_id": ["cid"], "client_secret": ["csecret"]}


@pytest.mark.parametrize("lifetime, margin", [(3600, 300), (1200, 300), (400, 100), (60, 15)])
def test_refresh_margin(lifetime, margin):
    assert _auth.refresh_margin(lifetime) == margin


@pytest.mark.parametrize("expires_in", ["3600", 3600, 3600.0])
def test_expires_in_string_or_number(expires_in):
    clock = Clock()
    c = creds(Issuer({"access_token": "t1", "expires_in": expires_in}, {"access_token": "t2", "expires_in": expires_in}), clock)
    assert c.token() == "t1"
    assert c.expires_in() == 3600
    clock.now += 3299
    assert c.token() == "t1"
    clock.now += 1
    assert c.token() == "t2"


@pytest.mark.parametrize("expires_in", [None, "soon", 0, -5])
def test_unreadable_lifetime_falls_back_to_an_hour(expires_in):
    c = creds(Issuer({"access_token": "t1", "expires_in": expires_in}))
    c.token()
    assert c.expires_in() == _auth.DEFAULT_LIFETIME


def test_invalidate_forces_a_new_token_and_old_ones_stay_secret():
    c = creds(Issuer({"access_token": "t1", "expires_in": 3600}, {"access_token": "t2", "expires_in": 3600}))
    assert c.token() == "t1"
    c.invalidate()
    assert not c.valid()
    assert c.token() == "t2"
    assert set(c.secrets()) == {"csecret", "t1", "t2"}


@pytest.mark.parametrize("answer", [{}, {"access_token": ""}, {"access_token": 5}, None, ["x"]])
def test_answer_without_token_is_an_auth_error(answer):
    with pytest.raises(IPSAuthError) as err:
        creds(Issuer(answer)).token()
    assert "access_token" in str(err.value)
    assert "csecret" not in str(err.value)
