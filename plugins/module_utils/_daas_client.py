# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DaasClient: the Citrix DaaS REST (orchestration) API on the IPS client's transport.

It is an IPSClient (same token and token cache, same retries, transaction ids, TLS and error
handling) whose calls go under `cvad/manage/` with the site id in `Citrix-InstanceId`. The site
id comes from `/me` when not given. On premises (a Delivery Controller's `citrix/orchestration/api`,
chosen by giving an administrator's user name) the token is the administrator's (`_auth.AdminCredentials`,
HTTP Basic at `<base>/tokens`), the customer is `CitrixOnPremises`, and the routes move under
`<base>/CitrixOnPremises/<site>/` (`/me` stays on the base). Jobs are followed with the shared waiter; a hosting unit's
resources are looked up through the service's cache first and again with `noCache` when the
artifact is not (yet) there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from urllib.parse import quote, urlsplit

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W, _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._auth import AdminCredentials, TokenCache
from ansible_collections.citrix_community.ips.plugins.module_utils._client import IPSClient
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSApiError, IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status, WaitTimeout


class DaasError(IPSError):
    """A DaaS job ended Failed or Canceled: the job's own message, its id and status."""

    def __init__(self, job, what):
        self.job = job
        self.job_id = job["id"]
        self.job_status = job["status"]
        reason = job["error"] or "the service gave no reason"
        super(DaasError, self).__init__("%s: DaaS job %s (%s) ended %s: %s" % (what, job["id"], job["type"], job["status"], reason))


def job_message(raw):
    """The human message of a job: the ErrorDetails 'ErrorMessage :' line, else ErrorString."""
    for param in raw.get(W.JOB_ERROR_PARAMETERS.json) or []:
        if param.get(W.NAME.json) == W.JOB_ERROR_DETAILS:
            for line in str(param.get(W.JOB_PARAMETER_VALUE.json) or "").splitlines():
                if line.strip().startswith(W.JOB_ERROR_MESSAGE_PREFIX):
                    return line.strip()[len(W.JOB_ERROR_MESSAGE_PREFIX):].strip()
    return raw.get(W.JOB_ERROR.json) or None


def shape_job(raw):
    """The collection's DaaS job dict: id, type, status, state (running/complete/warning/failed), progress, error, parameters."""
    status = raw.get(W.JOB_STATUS.json) or "Unknown"
    if status in W.JOB_RUNNING:
        state = "running"
    elif status == W.JOB_COMPLETE:
        state = "complete"
    elif status == W.JOB_WARNING:
        state = "warning"
    else:  # Failed, Canceled, NonTerminatingError and anything unknown: not a success
        state = "failed"
    params = dict((p.get(W.NAME.json), p.get(W.JOB_PARAMETER_VALUE.json)) for p in raw.get(W.JOB_PARAMETERS.json) or [])
    message = job_message(raw) if state in ("warning", "failed") else None
    return {"id": raw.get(W.ID.json), "type": raw.get(W.JOB_TYPE.json), "status": status, "state": state,
            "progress": raw.get(W.JOB_PROGRESS.json), "error": message if state == "failed" else None,
            "warning": message if state == "warning" else None, "parameters": params}


def is_stale_image_error(err):
    text = (getattr(err, "service_message", "") or "").lower()
    return isinstance(err, IPSApiError) and err.status == 400 and any(m in text for m in W.STALE_IMAGE_MARKERS)


class DaasClient(IPSClient):
    """Authenticated, retrying calls to the DaaS orchestration API of one site."""

    def __init__(self, site_id=None, daas_url=None, username=None, password=None, **kwargs):
        self.base = W.BASE_PATH
        self.onprem = bool(username)
        if self.onprem and not daas_url:
            raise IPSError("daas_username signs in to a Delivery Controller: set daas_url to its Orchestration API, e.g. %s."
                           % W.ONPREM_BASE_EXAMPLE)
        if self.onprem and not password:
            raise IPSError("daas_username needs daas_password (or CITRIX_DAAS_PASSWORD): the Citrix administrator's password.")
        if daas_url:
            parts = urlsplit(daas_url)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                raise IPSError("daas_url %r is not an http(s) URL; use e.g. https://api.cloud.com/cvad/manage or %s."
                               % (daas_url, W.ONPREM_BASE_EXAMPLE))
            kwargs["api_url"] = "%s://%s" % (parts.scheme, parts.netloc)
            self.base = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        if self.onprem:
            kwargs.update(customer_id=W.ONPREM_CUSTOMER_ID, client_id=username, client_secret=password)
        token_cache = kwargs.get("token_cache")
        super(DaasClient, self).__init__(**kwargs)
        if self.onprem:
            # the administrator's token instead of the API client's: same renewal, cache (keyed by URL and credentials), 401 handling
            cache = TokenCache(token_cache, self.api_url + "/" + self.base, self.customer_id, username, password) if token_cache else None
            self._auth = AdminCredentials(self.customer_id, username, password, self._fetch_token, self.base + W.ONPREM_TOKEN_ROUTE.path,
                                          clock=kwargs.get("clock", time.monotonic), cache=cache)
        self._site_id = site_id
        self._username = username

    # --- site ---------------------------------------------------------------------------------

    @property
    def site_id(self):
        if self._site_id is None:
            self._site_id = self._site_from_me()
        return self._site_id

    def _fetch_token(self, path, form):
        if not self.onprem:
            return super(DaasClient, self)._fetch_token(path, form)
        try:
            # like the cloud token, asking again has no side effect
            return self._exchange(W.ONPREM_TOKEN_ROUTE.method, path, None, None, None, authenticated=False, customer_header=False,
                                  idempotent=True, extra_headers={_wire.HEADER_AUTHORIZATION.json: self._auth.basic()}).data
        except IPSApiError as err:
            if 400 <= err.status < 500 and err.status != 429:
                raise IPSError("The Delivery Controller refused the sign-in of %s (HTTP %s): check daas_username (domain\\user of a Citrix "
                               "administrator) and daas_password." % (self._username, err.status), err.transaction_id)
            raise

    def _scope(self, route_key):
        """The base of a route: cvad/manage/ in the cloud; on premises the base, <customer>/ or <customer>/<site>/."""
        if not self.onprem:
            return self.base
        scope = W.ONPREM_SCOPE.get(route_key, W.ONPREM_SITE_SCOPE)
        return self.base + scope.format(customer=quote(self.customer_id, safe=""),
                                        site=quote(self.site_id, safe="") if "{site}" in scope else "")

    def _site_from_me(self):
        route = W.ROUTES["me"]
        try:
            me = self.request(route.method, route.path, base=self._scope("me")).data or {}
        except IPSApiError as err:
            if err.status == W.STATUS_NOT_ACTIVATED:
                raise IPSError("Citrix DaaS is not activated for customer %s (/me answered %d): activate DaaS in Citrix Cloud, or set "
                               "site_id." % (self.customer_id, err.status), err.transaction_id)
            raise
        for customer in me.get(W.ME_CUSTOMERS.json) or []:
            if customer.get(W.ID.json, "").lower() == self.customer_id.lower():
                sites = customer.get(W.ME_SITES.json) or []
                if sites:
                    return sites[0][W.ID.json]
        raise IPSError("The DaaS /me answer lists no site for customer %s; set site_id." % self.customer_id)

    def _headers(self, authenticated, content_type, customer_header):
        headers = super(DaasClient, self)._headers(authenticated, content_type, customer_header)
        if self._site_id is not None:
            headers[W.HEADER_INSTANCE_ID.json] = self._site_id
        return headers

    # --- calls --------------------------------------------------------------------------------

    def call(self, route_key, path_params=None, query=None, body=None):
        """Call a route of `_daas_wire.ROUTES` by its key; path params are URL-quoted."""
        self.site_id  # noqa: B018 - resolves the site (from /me) before the first orchestration call
        route = W.ROUTES[route_key]
        params = dict((k, quote(str(v), safe="")) for k, v in (path_params or {}).items())
        return self.request(route.method, route.path.format(**params), query=query, body=body, base=self._scope(route_key))

    def items(self, route_key, path_params=None, query=None):
        data = self.call(route_key, path_params, query).data or {}
        return data.get(W.ITEMS.json) or [] if isinstance(data, dict) else data

    def get(self, route_key, path_params=None):
        """The object, or None when the service answers 404."""
        try:
            return self.call(route_key, path_params).data
        except IPSApiError as err:
            if err.status == 404:
                return None
            raise

    def submit(self, route_key, path_params=None, body=None):
        """POST/PUT a long-running operation with async=true; returns the shaped job (202 + Location)."""
        resp = self.call(route_key, path_params, query={W.QUERY_ASYNC.json: True}, body=body)
        location = resp.headers.get(W.HEADER_LOCATION.json.lower())
        if location:
            return self.job(location.rstrip("/").rsplit("/", 1)[-1])
        if isinstance(resp.data, dict) and resp.data.get(W.ID.json):  # the initial job in the body
            return shape_job(resp.data)
        raise IPSError("DaaS accepted %s but named no job (no Location header); look at the catalog before re-running." % route_key,
                       resp.transaction_id)

    def job(self, job_id):
        return shape_job(self.call("job", {"job": job_id}).data or {})

    def running_jobs(self, job_type):
        return [shape_job(j) for j in self.items("jobs") if j.get(W.JOB_TYPE.json) == job_type and j.get(W.JOB_STATUS.json) in W.JOB_RUNNING]

    def wait(self, job, waiter, what):
        """Follow a job with the shared waiter until it ends; Failed/Canceled raise DaasError with the job's message."""
        def status(j):
            return Status(j["id"], j["status"], j["progress"], None)

        try:
            final = waiter.until("DaaS job", lambda: self.job(job["id"]), lambda j: j["state"] != "running", status, first=job)
        except WaitTimeout as err:
            err.job = err.last
            raise
        if final["state"] == "failed":
            raise DaasError(final, what)
        return final

    # --- resources ----------------------------------------------------------------------------

    def children(self, connection, pool, path, no_cache=False):
        query = {W.QUERY_PATH.json: path, W.QUERY_CHILDREN.json: True}
        if no_cache:
            query[W.QUERY_NO_CACHE.json] = True
        data = self.call("resources", {"connection": connection, "pool": pool}, query=query).data or {}
        return data.get(W.RESOURCE_CHILDREN.json) or []

    def find_resource(self, connection, pool, folder, match):
        """The resource in `folder` whose name `match(name)` accepts: through the cache, then once more with noCache
        (a fresh artifact is invisible to a cached listing). None if it is not there at all."""
        for no_cache in (False, True):
            for child in self.children(connection, pool, folder, no_cache):
                if not child.get(W.RESOURCE_IS_CONTAINER.json) and match(child.get(W.NAME.json) or ""):
                    return child
        return None

    def find_pool(self, pool):
        """(connection id, pool id, pool name) of a resource pool (hosting unit) by name or id; None if no connection has it."""
        for conn in self.items("hypervisors"):
            for found in self.items("resource_pools", {"connection": conn[W.ID.json]}):
                if pool.lower() in (str(found.get(W.ID.json)).lower(), str(found.get(W.NAME.json)).lower()):
                    return conn[W.ID.json], found[W.ID.json], found[W.NAME.json]
        return None

    def refresh(self, xdpath):
        """Refresh the service's cache of the folder holding `xdpath` (a noCache look-up), for a stale-image retry."""
        if not xdpath.lower().startswith(W.HOSTING_UNITS.lower()):
            return
        pool, _sep, relative = xdpath[len(W.HOSTING_UNITS):].partition("\\")
        found = self.find_pool(pool)
        if found:
            self.children(found[0], found[1], relative.rpartition("\\")[0], no_cache=True)

    def submit_image_change(self, route_key, path_params, body, xdpath):
        """submit(), and when the service cannot find a just-made image (stale cache), refresh and submit once more."""
        try:
            return self.submit(route_key, path_params, body)
        except IPSApiError as err:
            if not (xdpath and is_stale_image_error(err)):
                raise
        self.refresh(xdpath)
        return self.submit(route_key, path_params, body)


def daas_argument_spec():
    """The options of the daas doc fragment: where the DaaS API is and which site."""
    from ansible.module_utils.basic import env_fallback

    return dict(
        daas_url=dict(type="str", fallback=(env_fallback, ["CITRIX_DAAS_URL"])),
        site_id=dict(type="str", fallback=(env_fallback, ["CITRIX_DAAS_SITE_ID"])),
        daas_username=dict(type="str", fallback=(env_fallback, ["CITRIX_DAAS_USERNAME"])),
        daas_password=dict(type="str", no_log=True, fallback=(env_fallback, ["CITRIX_DAAS_PASSWORD"])),
    )


def from_params(p):
    """A DaasClient from a module's auth and daas options; IPSError names what is missing. With daas_username, the
    Delivery Controller's Orchestration API (on premises) with that administrator; else Citrix Cloud with the API client."""
    from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import client_from_params

    username = p.get("daas_username")
    credentials = (W.ONPREM_CUSTOMER_ID, username, p.get("daas_password") or "") if username else None
    return client_from_params(p, cls=DaasClient, credentials=credentials, site_id=p.get("site_id"), daas_url=p.get("daas_url"),
                              username=username, password=p.get("daas_password"))
