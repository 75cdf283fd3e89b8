# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Citrix Cloud OAuth client-credentials token, kept with its expiry.

Client-credential tokens last an hour and cannot be refreshed, while IPS jobs run for hours. So
the token is requested again shortly before it expires (and after a 401, via `invalidate()`),
rather than waiting for the service to refuse it. Expiry runs on a monotonic clock so a changed
wall clock cannot keep a dead token alive.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from urllib.parse import quote, urlencode

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSAuthError
from ansible_collections.citrix_community.ips.plugins.module_utils import _wire

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


class ClientCredentials:
    """The API client's token. `fetch(path, form_bytes)` does the HTTP POST and returns parsed JSON."""

    def __init__(self, customer_id, client_id, client_secret, fetch, clock=time.monotonic):
        self.customer_id = customer_id
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
        self._token = None

    def token(self):
        """A token good for at least the refresh margin, fetched when needed."""
        if not self.valid():
            self._store(self._fetch(self.path, self.form()))
        return self._token

    def _store(self, data):
        names = _wire.TOKEN_RESPONSE
        token = data.get(names["access_token"].json) if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise IPSAuthError(200, "the token endpoint answered without an %s" % names["access_token"].json)
        lifetime = _lifetime(data.get(names["expires_in"].json))
        now = self._clock()
        self._spent.append(token)
        self._token = token
        self._expires_at = now + lifetime
        self._renew_at = self._expires_at - refresh_margin(lifetime)
