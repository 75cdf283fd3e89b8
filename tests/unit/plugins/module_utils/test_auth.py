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


# --- the token cache between processes (real files in tmp_path; the wall clock injected) -----------------------


class Wall(Clock):
    def __init__(self):
        self.now = 1_800_000_000.0


def cached(tmp_path, issuer, clock=None, wall=None, secret="csecret", folder="tokens"):
    cache = _auth.TokenCache(str(tmp_path / folder), "https://api.example", "cust", "cid", secret, wall=wall or Wall())
    return _auth.ClientCredentials("cust", "cid", secret, issuer, clock=clock or Clock(), cache=cache), cache


def test_a_second_process_takes_the_cached_token(tmp_path):
    issuer = Issuer({"access_token": "t1", "expires_in": 3600})
    first, cache = cached(tmp_path, issuer)
    assert first.token() == "t1"
    second = cached(tmp_path, issuer)[0]  # another task: a new object, no token in memory
    assert second.token() == "t1"
    assert len(issuer.calls) == 1
    folder = tmp_path / "tokens"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert [oct(p.stat().st_mode & 0o777) for p in folder.iterdir()] == ["0o600"]
    assert "csecret" not in (folder / next(folder.iterdir()).name).read_text()


def test_cached_token_renewed_shortly_before_its_expiry(tmp_path):
    issuer = Issuer({"access_token": "t1", "expires_in": 3600}, {"access_token": "t2", "expires_in": 3600})
    wall = Wall()
    first = cached(tmp_path, issuer, wall=wall)[0]
    first.token()
    wall.now += 3299  # 301 s left: still good
    assert cached(tmp_path, issuer, wall=wall)[0].token() == "t1"
    wall.now += 1  # 300 s left: the margin, so the next task asks for a new one and caches it
    assert cached(tmp_path, issuer, wall=wall)[0].token() == "t2"
    assert cached(tmp_path, issuer, wall=wall)[0].token() == "t2"
    assert len(issuer.calls) == 2


def test_a_refused_token_leaves_the_cache(tmp_path):
    issuer = Issuer({"access_token": "t1", "expires_in": 3600}, {"access_token": "t2", "expires_in": 3600})
    first = cached(tmp_path, issuer)[0]
    first.token()
    second = cached(tmp_path, issuer)[0]
    assert second.token() == "t1"
    second.invalidate()  # a 401
    assert second.token() == "t2"
    assert cached(tmp_path, issuer)[0].token() == "t2"
    assert len(issuer.calls) == 2


def test_another_secret_never_gets_the_cached_token(tmp_path):
    issuer = Issuer({"access_token": "t1", "expires_in": 3600}, {"access_token": "t2", "expires_in": 3600})
    cached(tmp_path, issuer)[0].token()
    assert cached(tmp_path, issuer, secret="other")[0].token() == "t2"


@pytest.mark.parametrize("spoil", ["file_mode", "folder_mode", "garbage", "symlink"])
def test_a_cache_others_can_read_or_a_damaged_one_is_not_used(tmp_path, spoil):
    issuer = Issuer({"access_token": "t1", "expires_in": 3600}, {"access_token": "t2", "expires_in": 3600})
    first, cache = cached(tmp_path, issuer)
    first.token()
    path = tmp_path / "tokens" / cache.path.rsplit("/", 1)[-1]
    if spoil == "file_mode":
        path.chmod(0o644)
    elif spoil == "folder_mode":
        (tmp_path / "tokens").chmod(0o755)
    elif spoil == "garbage":
        path.write_text("{not json")
    else:
        target = tmp_path / "elsewhere.json"
        path.rename(target)
        path.symlink_to(target)
    assert cached(tmp_path, issuer)[0].token() == "t2"


def test_an_unwritable_cache_folder_never_fails_the_task(tmp_path):
    (tmp_path / "blocked").write_text("a file where the folder should be")
    issuer = Issuer({"access_token": "t1", "expires_in": 3600}, {"access_token": "t2", "expires_in": 3600})
    first = cached(tmp_path, issuer, folder="blocked/tokens")[0]
    assert first.token() == "t1"
    assert cached(tmp_path, issuer, folder="blocked/tokens")[0].token() == "t2"
