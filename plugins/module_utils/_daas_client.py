# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DaasClient: the Citrix DaaS REST (orchestration) API on the IPS client's transport.

It is an IPSClient (same token and token cache, same retries, transaction ids, TLS and error
handling) whose calls go under `cvad/manage/` with the site id in `Citrix-InstanceId`. The site
id comes from `/me` when not given. Jobs are followed with the shared waiter; a hosting unit's
resources are looked up through the service's cache first and again with `noCache` when the
artifact is not (yet) there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote, urlsplit

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
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

    def __init__(self, site_id=None, daas_url=None, **kwargs):
        self.base = W.BASE_PATH
        if daas_url:
            parts = urlsplit(daas_url)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                raise IPSError("daas_url %r is not an http(s) URL; use e.g. https://api.cloud.com/cvad/manage." % daas_url)
            kwargs["api_url"] = "%s://%s" % (parts.scheme, parts.netloc)
            self.base = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        super(DaasClient, self).__init__(**kwargs)
        self._site_id = site_id

    # --- site ---------------------------------------------------------------------------------

    @property
    def site_id(self):
        if self._site_id is None:
            self._site_id = self._site_from_me()
        return self._site_id

    def _site_from_me(self):
        route = W.ROUTES["me"]
        try:
            me = self.request(route.method, route.path, base=self.base).data or {}
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
        return self.request(route.method, route.path.format(**params), query=query, body=body, base=self.base)

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
    )


def from_params(p):
    """A DaasClient from a module's auth and daas options; IPSError names what is missing."""
    from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import client_from_params

    return client_from_params(p, cls=DaasClient, site_id=p.get("site_id"), daas_url=p.get("daas_url"))
