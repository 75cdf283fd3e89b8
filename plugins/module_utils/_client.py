# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPSClient: the Citrix Cloud / IPS REST transport on ansible.module_utils.urls.

One request = one or more attempts. Each attempt gets a fresh Citrix-TransactionId; the id of
the attempt that failed goes into the error. The token is renewed ahead of expiry by `_auth`,
and once more after a 401. What is retried, and how long to wait, is `_retries`' decision.
Routes, headers and JSON names come from `_wire` only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import inspect
import json
import platform
import random
import ssl
import time
import uuid
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.urls import Request

from ansible_collections.citrix_community.ips.plugins.module_utils import _retries, _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._auth import FORM_CONTENT_TYPE, ClientCredentials, TokenCache
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import (
    IPSApiError, IPSAuthError, IPSConnectionError, IPSError, IPSTLSError, redact, service_message)
from ansible_collections.citrix_community.ips.plugins.module_utils._version import COLLECTION_NAME, COLLECTION_VERSION

# Plain HTTP header names (not Citrix wire format, which lives in _wire).
_ACCEPT = "Accept"
_CONTENT_TYPE = "Content-Type"
_USER_AGENT = "User-Agent"

# JSON names whose values are secret in request bodies (credential wallet), masked in any error.
_SECRET_BODY_KEYS = frozenset(f.json for fields in _wire.CREDENTIAL_FIELDS.values() for f in fields.values() if f.secret)
# Inside a secret object (a GCP key), leaves this short are field values like "service_account",
# not key material; masking them would only garble the message.
_MIN_NESTED_SECRET = 8
# urls.Request takes an SSLContext from ansible-core 2.17 on
_REQUEST_TAKES_CONTEXT = "context" in inspect.signature(Request.__init__).parameters

_HINTS = {
    401: "The token was refused even after re-authenticating: check that the API client still exists and belongs to customer_id",
    403: "The API client lacks the permission for this call: grant it access in Citrix Cloud (Identity and Access Management)",
}
_POST_HINT = "A POST is not retried automatically because the service may already have acted on it: look for the job " \
             "(ips_job_info) or the object before re-running"


def user_agent():
    return "%s/%s ansible-core/%s python/%s" % (COLLECTION_NAME, COLLECTION_VERSION, ANSIBLE_VERSION, platform.python_version())


class Response:
    """A successful answer: status, headers (lower-case keys), data (parsed JSON or None), transaction_id."""

    def __init__(self, status, headers, data, transaction_id, text=""):
        self.status = status
        self.headers = headers
        self.data = data
        self.transaction_id = transaction_id
        self.text = text

    def __repr__(self):
        return "Response(status=%r, transaction_id=%r)" % (self.status, self.transaction_id)


class _Dropped(Exception):
    """An attempt got no usable HTTP answer (refused, reset, closed, timed out)."""

    transaction_id = None


class _Reauthenticate(Exception):
    """A 401 with a token we thought valid: the token was dropped, the request goes again once."""


class _Refused(Exception):
    """An error answer (4xx/5xx) of one attempt, for the retry loop to judge."""

    def __init__(self, status, headers, text, transaction_id):
        super(_Refused, self).__init__(status)
        self.status = status
        self.headers = headers
        self.text = text
        self.transaction_id = transaction_id


def _tls_context(validate_certs, ca_path):
    if not validate_certs:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    # The system CAs stay trusted; ca_path adds one (a lab CA, a TLS-inspecting proxy's CA).
    ctx = ssl.create_default_context()
    if ca_path:
        try:
            ctx.load_verify_locations(cafile=ca_path)
        except (OSError, ssl.SSLError) as err:
            raise IPSError("ca_path %s could not be loaded as a PEM CA bundle: %s. Point ca_path at a readable PEM file." % (ca_path, err))
    return ctx


def _http_request(request_timeout, validate_certs, ca_path):
    """The urls.Request every call goes through, with our TLS context where ansible-core takes one."""
    context = _tls_context(validate_certs, ca_path)  # also refuses an unreadable ca_path, on every core
    common = dict(timeout=request_timeout, follow_redirects="none", use_netrc=False)
    if _REQUEST_TAKES_CONTEXT:
        return Request(context=context, **common)
    # ansible-core 2.16 builds its own context: ca_path then replaces the system CAs instead of adding to them
    return Request(validate_certs=validate_certs, ca_path=ca_path, **common)


def _secret_leaves(value, nested=False):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _secret_leaves(v, True)]
    if isinstance(value, str) and (not nested or len(value) >= _MIN_NESTED_SECRET):
        return [value]
    return []


def _body_secrets(body):
    """Secret values inside a request body (password, client secret, service-account key...)."""
    if isinstance(body, dict):
        found = []
        for key, value in body.items():
            found.extend(_secret_leaves(value) if key in _SECRET_BODY_KEYS else _body_secrets(value))
        return found
    if isinstance(body, list):
        return [s for v in body for s in _body_secrets(v)]
    return []


def _query_value(value):
    # The service expects JSON-style booleans (dryRun=true), not Python's True.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class IPSClient:
    """Authenticated, retrying calls to the Citrix Cloud IPS API."""

    def __init__(self, customer_id, client_id, client_secret, region="us", api_url=None, validate_certs=True, ca_path=None,
                 request_timeout=60, max_retries=5, retry_max_delay=60, sleep=time.sleep, clock=time.monotonic, rand=random.random,
                 token_cache=None):
        if api_url:
            self.api_url = api_url.rstrip("/")
        elif region in _wire.REGION_API_URLS:
            self.api_url = _wire.REGION_API_URLS[region]
        else:
            raise IPSError("Unknown Citrix Cloud region %r: use one of %s, or set api_url." % (region, ", ".join(sorted(_wire.REGION_API_URLS))))
        self.host = urlsplit(self.api_url).netloc or self.api_url
        self.customer_id = customer_id
        self.user_agent = user_agent()
        self._policy = _retries.policy(max_retries, retry_max_delay)
        self._sleep = sleep
        self._rand = rand
        # follow_redirects none: a redirect would carry the Authorization header to another URL.
        # use_netrc off: ~/.netrc must not add credentials of its own to our calls.
        self._http = _http_request(request_timeout, validate_certs, ca_path)
        # token_cache: a folder to keep the token in between processes (_auth.TokenCache), or None.
        cache = TokenCache(token_cache, self.api_url, customer_id, client_id, client_secret) if token_cache else None
        self._auth = ClientCredentials(customer_id, client_id, client_secret, self._fetch_token, clock=clock, cache=cache)

    # --- public API ---------------------------------------------------------------------------

    def call(self, route_key, path_params=None, query=None, body=None):
        """Call a route of `_wire.ROUTES` by its key; path params are URL-quoted."""
        route = _wire.ROUTES[route_key]
        params = dict((k, quote(str(v), safe="")) for k, v in (path_params or {}).items())
        return self.request(route.method, route.path.format(**params), query=query, body=body)

    def request(self, method, path, query=None, body=None, base=_wire.IPS_BASE_PATH, authenticated=True):
        """One API call (with retries); `body` is sent as UTF-8 JSON. Returns a Response or raises an IPSError."""
        data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._exchange(method.upper(), base + path.lstrip("/"), query, data, _wire.CONTENT_TYPE_JSON if data is not None else None,
                              authenticated=authenticated, extra_secrets=_body_secrets(body))

    def iter_pages(self, route_key, query=None, path_params=None):
        """Yield the items of a listed route, following continuation tokens across pages."""
        query = dict(query or {})
        seen = set()
        while True:
            data = self.call(route_key, path_params=path_params, query=query).data
            if isinstance(data, list):  # an unpaged list
                yield from data
                return
            data = data or {}
            yield from data.get(_wire.JOB_LIST_ITEMS.json) or []
            token = data.get(_wire.JOB_LIST_CONTINUATION.json)
            if not token:
                return
            if token in seen:
                raise IPSError("Citrix Cloud returned the same continuation token twice while listing %s; stopped to avoid a loop." % route_key)
            seen.add(token)
            query[_wire.QUERY_CONTINUATION.json] = token

    def module_versions(self):
        """The latest PowerShell module versions the service announces (no token needed)."""
        route = _wire.MODULE_VERSIONS_ROUTE
        return self.request(route.method, route.path, base="", authenticated=False).data

    def invalidate_token(self):
        self._auth.invalidate()

    # --- transport ----------------------------------------------------------------------------

    def _fetch_token(self, path, form):
        try:
            # Asking for a token has no side effect, so unlike a job POST it is safe to repeat after
            # a 502/504 or a dropped connection.
            return self._exchange("POST", path, None, form, FORM_CONTENT_TYPE, authenticated=False, customer_header=False, idempotent=True).data
        except IPSApiError as err:
            # 4xx from the token endpoint: the credentials (or the customer/host) are wrong. Not a 429.
            if 400 <= err.status < 500 and err.status != 429:
                raise IPSAuthError(err.status, err.service_message, err.transaction_id)
            raise

    def _url(self, path, query):
        url = "%s/%s" % (self.api_url, path)
        pairs = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        return url + ("?" + urlencode(pairs, doseq=True) if pairs else "")

    def _headers(self, authenticated, content_type, customer_header):
        headers = {
            _ACCEPT: _wire.ACCEPT_JSON,
            _USER_AGENT: self.user_agent,
            _wire.HEADER_TRANSACTION_ID.json: str(uuid.uuid4()),
        }
        if content_type:
            headers[_CONTENT_TYPE] = content_type
        if customer_header:
            headers[_wire.HEADER_CUSTOMER_ID.json] = self.customer_id
        if authenticated:
            headers[_wire.HEADER_AUTHORIZATION.json] = _wire.AUTHORIZATION_FORMAT.format(token=self._auth.token())
        return headers

    def _open(self, method, url, data, headers):
        """One attempt -> (status, lower-cased headers, body bytes); raises _Dropped or IPSTLSError."""
        try:
            try:
                resp = self._http.open(method, url, data=data, headers=headers)
            except HTTPError as err:  # an HTTP answer with an error status: read it like any other
                resp = err
            try:
                raw = resp.read()
            finally:
                resp.close()
        except URLError as err:
            reason = err.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise IPSTLSError(self.host, reason.verify_message or str(reason), headers[_wire.HEADER_TRANSACTION_ID.json])
            if isinstance(reason, OSError):
                raise _Dropped(str(reason) or type(reason).__name__)
            raise IPSError("Cannot open %s: %s. Check api_url." % (url.split("?")[0], reason))
        except ssl.SSLCertVerificationError as err:
            raise IPSTLSError(self.host, err.verify_message or str(err), headers[_wire.HEADER_TRANSACTION_ID.json])
        except (OSError, http.client.HTTPException) as err:
            # Reset, closed without answer (RemoteDisconnected), timed out, truncated body.
            raise _Dropped("%s: %s" % (type(err).__name__, err) if str(err) else type(err).__name__)
        status = getattr(resp, "status", None) or resp.code
        return status, dict((k.lower(), v) for k, v in resp.headers.items()), raw

    def _exchange(self, method, path, query, data, content_type, authenticated=True, customer_header=True, extra_secrets=(), idempotent=None,
                  extra_headers=None):
        """One call through the shared retry loop: each attempt is `_attempt`, `classify` says what may be tried again.
        `extra_headers` go on every attempt (the DaaS on-premises sign-in's HTTP Basic header)."""
        url = self._url(path, query)
        shown = "/" + path
        retrier = _retries.Retrier(self._policy, sleep=self._sleep, rand=self._rand)
        tried = {"reauthenticated": False}

        def attempt():
            return self._attempt(method, url, shown, data, content_type, authenticated, customer_header, tried, extra_headers)

        def classify(exc):
            if isinstance(exc, _Reauthenticate):
                return _retries.Verdict(True, counted=False)
            if isinstance(exc, _Dropped):
                return _retries.Verdict(_retries.is_retryable(method, dropped=True, idempotent=idempotent))
            if isinstance(exc, _Refused):
                retry_after = _retries.parse_retry_after(exc.headers.get(_wire.HEADER_RETRY_AFTER.json.lower()))
                return _retries.Verdict(_retries.is_retryable(method, exc.status, idempotent=idempotent), exc.status == 429, retry_after)
            return _retries.FINAL

        try:
            return retrier.call(classify, attempt)
        except _Dropped as err:
            hint = _POST_HINT if not _retries.is_retryable(method, dropped=True, idempotent=idempotent) else None
            raise IPSConnectionError(self.host, "%s %s: %s" % (method, shown, err), retrier.retries, err.transaction_id, method, hint)
        except _Refused as err:
            secrets = tuple(self._auth.secrets()) + tuple(extra_secrets)
            hint = _HINTS.get(err.status)
            if err.status in _retries.RETRY_IDEMPOTENT_ONLY and not _retries.is_retryable(method, err.status, idempotent=idempotent):
                hint = _POST_HINT
            raise IPSApiError(err.status, redact(service_message(err.text), secrets), err.transaction_id, method, shown,
                              redact(err.text, secrets), retrier.retries, hint)

    def _attempt(self, method, url, shown, data, content_type, authenticated, customer_header, tried, extra_headers=None):
        """One request -> Response; raises _Dropped, _Reauthenticate or _Refused for the retry loop to judge."""
        headers = self._headers(authenticated, content_type, customer_header)
        headers.update(extra_headers or {})
        sent_id = headers[_wire.HEADER_TRANSACTION_ID.json]
        try:
            status, resp_headers, raw = self._open(method, url, data, headers)
        except _Dropped as err:
            err.transaction_id = sent_id
            raise
        transaction_id = resp_headers.get(_wire.HEADER_TRANSACTION_ID.json.lower()) or sent_id
        text = raw.decode("utf-8", "replace")
        if status < 300:
            try:
                parsed = json.loads(text) if text.strip() else None
            except ValueError:
                parsed = None
            return Response(status, resp_headers, parsed, transaction_id, text)
        if status < 400:
            # Redirects are not followed (they would carry the token elsewhere): say where to point api_url.
            raise IPSApiError(status, "redirected to %s" % resp_headers.get("location", "?"), transaction_id, method, shown,
                              hint="Set api_url to the host that answers directly")
        if status == 401 and authenticated and not tried["reauthenticated"]:
            # The token is dead (revoked, clock skew): a 401 means nothing was done, so one retry is safe.
            self._auth.invalidate()
            tried["reauthenticated"] = True
            raise _Reauthenticate()
        raise _Refused(status, resp_headers, text, transaction_id)
