# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Citrix Cloud OAuth client-credentials token, kept with its expiry.

Client-credential tokens last an hour and cannot be refreshed, while IPS jobs run for hours. So
the token is requested again shortly before it expires (and after a 401, via `invalidate()`),
rather than waiting for the service to refuse it. Expiry runs on a monotonic clock so a changed
wall clock cannot keep a dead token alive.

Every module task is a process of its own, so a token kept in memory dies with the task. `TokenCache`
keeps it between the tasks of a run (and runs of the same user): one file per API client under the
user's cache folder, the folder 0700 and the file 0600, written atomically, used only when both are the
user's own and closed to others. The file is named by a hash of the API URL, customer, client id and
client secret, so another secret never gets this client's token. A cached token is used until shortly
before its (wall-clock) expiry; a 401 drops it from the cache too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import calendar
import hashlib
import json
import os
import re
import stat
import tempfile
import time

from urllib.parse import quote, urlencode

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSAuthError
from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire, _wire

# Documented lifetime, used when the answer has no readable expires_in.
DEFAULT_LIFETIME = 3600.0
# Renew this long before expiry at most; short-lived tokens renew at 3/4 of their life instead.
MAX_REFRESH_MARGIN = 300.0
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def refresh_margin(lifetime):
    return min(MAX_REFRESH_MARGIN, lifetime / 4.0)


def _lifetime(value):
    # The docs show expires_in as a string ("3600"); accept int/float too.
    try:
        lifetime = float(value)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME
    return lifetime if lifetime > 0 else DEFAULT_LIFETIME


def default_cache_dir():
    """$XDG_CACHE_HOME/citrix_community.ips/tokens, else ~/.cache/citrix_community.ips/tokens."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "citrix_community.ips", "tokens")


class TokenCache:
    """One API client's token on disk, between the processes of a run. Every failure to use the file (missing,
    foreign, readable by others, damaged, unwritable) means "no cached token": the cache never fails a task."""

    def __init__(self, folder, api_url, customer_id, client_id, client_secret, wall=time.time):
        self.folder = folder
        digest = hashlib.sha256("\0".join([api_url or "", customer_id or "", client_id or "", client_secret or ""]).encode("utf-8"))
        self.path = os.path.join(folder, digest.hexdigest() + ".json")
        self._wall = wall

    def _private(self, st, kind):
        return kind(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO)

    def _folder_ok(self, create=False):
        try:
            if create and not os.path.isdir(self.folder):
                os.makedirs(self.folder, 0o700)
            return self._private(os.lstat(self.folder), stat.S_ISDIR)
        except OSError:
            return False

    def load(self):
        """-> (token, seconds left, lifetime) of the cached token, or None."""
        if not self._folder_ok():
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            if not self._private(os.fstat(fd), stat.S_ISREG):
                return None
            with os.fdopen(fd, "r") as handle:
                fd = None
                data = json.load(handle)
            token, expires_at, lifetime = data["access_token"], float(data["expires_at"]), float(data["lifetime"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        finally:
            if fd is not None:
                os.close(fd)
        if not isinstance(token, str) or not token or lifetime <= 0:
            return None
        return token, expires_at - self._wall(), lifetime

    def save(self, token, lifetime):
        if not self._folder_ok(create=True):
            return
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".token-", dir=self.folder)  # 0600 from the start
            with os.fdopen(fd, "w") as handle:
                json.dump({"access_token": token, "expires_at": self._wall() + lifetime, "lifetime": lifetime}, handle)
            os.replace(tmp, self.path)
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                try:
                    os.remove(tmp)
                except OSError:
                    pass

    def forget(self, token):
        """Remove the cached token if it is `token` (another process may have cached a newer one meanwhile)."""
        found = self.load()
        if found and found[0] == token:
            try:
                os.remove(self.path)
            except OSError:
                pass


class ClientCredentials:
    """The API client's token. `fetch(path, form_bytes)` does the HTTP POST and returns parsed JSON."""

    def __init__(self, customer_id, client_id, client_secret, fetch, clock=time.monotonic, cache=None):
        self.customer_id = customer_id
        self._cache = cache
        self._refused = None
        self._client_id = client_id
        self._client_secret = client_secret
        self._fetch = fetch
        self._clock = clock
        self._token = None
        self._renew_at = None
        self._expires_at = None
        # Every token this object held, so a late error message echoing an old one is still masked.
        self._spent = []

    @property
    def path(self):
        """The token route, relative to the API host."""
        return _wire.TOKEN_ROUTE.path.format(customer_id=quote(str(self.customer_id), safe=""))

    def form(self):
        """The form-encoded request body (holds the client secret: never log or echo it)."""
        fields = _wire.TOKEN_FORM
        return urlencode([
            (fields["grant_type"].json, _wire.TOKEN_GRANT_TYPE),
            (fields["client_id"].json, self._client_id),
            (fields["client_secret"].json, self._client_secret),
        ]).encode("ascii")

    def secrets(self):
        """Values that must never appear in an error or log."""
        return tuple(s for s in [self._client_secret, self._token] + self._spent if s)

    def valid(self):
        return self._token is not None and self._clock() < self._renew_at

    def expires_in(self):
        """Seconds until the current token expires, or None without one (for diagnostics)."""
        return None if self._token is None else self._expires_at - self._clock()

    def invalidate(self):
        """Forget the token: the service refused it (401), so the next call gets a new one."""
        if self._cache is not None and self._token is not None:
            self._cache.forget(self._token)
        self._refused = self._token
        self._token = None

    def token(self):
        """A token good for at least the refresh margin: this object's, else the cache's, else fetched."""
        if not self.valid() and not self._from_cache():
            lifetime = self._store(self._fetch(self.path, self.form()))
            if self._cache is not None:
                self._cache.save(self._token, lifetime)
        return self._token

    def _from_cache(self):
        found = self._cache.load() if self._cache is not None else None
        if not found:
            return False
        token, left, lifetime = found
        if left <= refresh_margin(lifetime) or token == self._refused:
            return False  # renewed shortly before expiry; the token just refused is not taken again
        self._keep(token, left, lifetime)
        return True

    def _keep(self, token, left, lifetime):
        """Use `token` for the `left` seconds it has, renewed `refresh_margin(lifetime)` before it ends."""
        self._spent.append(token)
        self._token = token
        self._expires_at = self._clock() + left
        self._renew_at = self._expires_at - refresh_margin(lifetime)

    def _store(self, data):
        names = _wire.TOKEN_RESPONSE
        token = data.get(names["access_token"].json) if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise IPSAuthError(200, "the token endpoint answered without an %s" % names["access_token"].json)
        lifetime = _lifetime(data.get(names["expires_in"].json))
        self._keep(token, lifetime, lifetime)
        return lifetime


def _epoch(text):
    """Seconds since the epoch of an RFC 3339 time (2026-12-07T16:00:00Z, .NET's 7 fraction digits, +01:00), or None."""
    match = _RFC3339.match(str(text or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0))
    seconds += float("0." + fraction) if fraction else 0.0
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


_RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)?$")


class AdminCredentials(ClientCredentials):
    """A Citrix administrator's token from a Delivery Controller's Orchestration API (DaaS on premises): POST <base>/tokens
    with HTTP Basic, no body. The same renewal, cache and 401 handling as the API client's token; `fetch(path, None)` must
    send `basic()` as the Authorization header. The user name and password stand where the client id and secret do."""

    def __init__(self, customer_id, username, password, fetch, path, wall=time.time, **kwargs):
        super(AdminCredentials, self).__init__(customer_id, username, password, fetch, **kwargs)
        self._path = path
        self._wall = wall
        self._basic = _daas_wire.ONPREM_BASIC_FORMAT.format(
            credentials=base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii"))

    @property
    def path(self):
        return self._path

    def form(self):
        return None

    def basic(self):
        """The Authorization header of the sign-in (holds the password: never log or echo it)."""
        return self._basic

    def secrets(self):
        return super(AdminCredentials, self).secrets() + (self._basic, self._basic.split(" ", 1)[1])

    def _store(self, data):
        token = data.get(_daas_wire.ONPREM_TOKEN.json) if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise IPSAuthError(200, "the Delivery Controller's token endpoint answered without a %s" % _daas_wire.ONPREM_TOKEN.json)
        expires = _epoch(data.get(_daas_wire.ONPREM_TOKEN_EXPIRES_AT.json))
        # ExpiresAt is the controller's wall clock; a skewed or unreadable one falls back to the documented hour, a past one to a minute
        lifetime = DEFAULT_LIFETIME if expires is None else max(60.0, expires - self._wall())
        self._keep(token, lifetime, lifetime)
        return lifetime
