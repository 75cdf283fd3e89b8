"""The DaaS REST routes the stand-in serves under /cvad/manage (names seen in the generated client,
reference successor-and-mcs.md section 4). Every route needs the Citrix Cloud token (the Citrix
stand-in's own check, citrix/auth.py) and, except /me, the site id in Citrix-InstanceId. The same
resource routes are served on premises under /citrix/orchestration/api/CitrixOnPremises/{site}/, with
the Delivery Controller's own sign-in (onprem.py)."""

import re
from collections import namedtuple

from ..common.errors import ApiError
from . import onprem, rules
from .site import error

Route = namedtuple("Route", ["method", "pattern", "func", "site"])


def _flag(req, name):
    value = req.params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise error(400, "The query parameter '%s' must be true or false (got '%s')." % (name, value), "InvalidParameter")
    return value == "true"


def _job_answer(req, job):
    """async=true: 202 + Location of the job (seen); else the initial job in the body."""
    if _flag(req, "async"):
        return 202, None, {"Location": "%s/Jobs/%s" % (getattr(req, "daas_base", rules.BASE), job["Id"])}
    return 200, job, {}


def me(daas, req):
    return 200, daas.me(), {}


def sites(daas, req):
    return 200, {"Items": [daas.site()]}, {}


def site(daas, req, ident):
    return 200, daas.site(ident), {}


def hypervisors(daas, req):
    return 200, daas.hypervisors(), {}


def hypervisor(daas, req, conn):
    return 200, daas._public_conn(daas.hypervisor(conn)), {}


def pools(daas, req, conn):
    return 200, {"Items": daas.hypervisor(conn)["Pools"]}, {}


def pool(daas, req, conn, pool):
    return 200, daas.pool(daas.hypervisor(conn), pool), {}


def resources(daas, req, conn, pool):
    connection = daas.hypervisor(conn)
    found = daas.resources(connection, daas.pool(connection, pool), req.params.get("path", ""), _flag(req, "children"), _flag(req, "noCache"))
    return 200, found, {}


def catalogs(daas, req):
    return 200, daas.catalogs(), {}


def catalog(daas, req, ident):
    return 200, daas.catalog(ident), {}


def create_catalog(daas, req):
    return _job_answer(req, daas.create_catalog(req.json()))


def update_scheme(daas, req, ident):
    return _job_answer(req, daas.update_scheme(ident, req.json()))


def rollback(daas, req, ident):
    return _job_answer(req, daas.rollback(ident, req.json() if req.body else {}))


def history(daas, req, ident):
    return 200, daas.history(ident), {}


def definitions(daas, req):
    return 200, daas.definitions(), {}


def definition(daas, req, ident):
    return 200, daas.definition(ident), {}


def create_definition(daas, req):
    job, made = daas.create_definition(req.json(), _flag(req, "async"))
    return (201, made, {}) if made else _job_answer(req, job)


def versions(daas, req, ident):
    return 200, daas.versions(ident), {}


def version(daas, req, ident, number):
    return 200, daas.version(ident, number), {}


def create_version(daas, req, ident):
    return _job_answer(req, daas.create_version(ident, req.json()))


def share_version(daas, req, ident, number):
    return _job_answer(req, daas.share_version(ident, number, req.json()))


def jobs(daas, req):
    return 200, daas.jobs.list(), {}


def job(daas, req, ident):
    return 200, daas.jobs.get(ident), {}


def cancel_job(daas, req, ident):
    return 200, daas.jobs.cancel(ident), {}


_ID = r"(?P<ident>[^/$]+)"
ROUTES = [
    Route("GET", r"/me", me, False),
    Route("GET", r"/Sites", sites, False),
    Route("GET", r"/Sites/" + _ID, site, False),
    Route("GET", r"/hypervisors", hypervisors, True),
    Route("GET", r"/hypervisors/(?P<conn>[^/$]+)", hypervisor, True),
    Route("GET", r"/hypervisors/(?P<conn>[^/$]+)/resourcePools", pools, True),
    Route("GET", r"/hypervisors/(?P<conn>[^/$]+)/resourcePools/(?P<pool>[^/$]+)", pool, True),
    Route("GET", r"/hypervisors/(?P<conn>[^/$]+)/resourcePools/(?P<pool>[^/$]+)/resources", resources, True),
    Route("GET", r"/MachineCatalogs", catalogs, True),
    Route("POST", r"/MachineCatalogs", create_catalog, True),
    Route("GET", r"/MachineCatalogs/" + _ID, catalog, True),
    Route("POST", r"/MachineCatalogs/" + _ID + r"/\$UpdateProvisioningScheme", update_scheme, True),
    Route("POST", r"/MachineCatalogs/" + _ID + r"/\$RollbackProvisioningScheme", rollback, True),
    Route("GET", r"/MachineCatalogs/" + _ID + r"/MasterImageHistory", history, True),
    Route("GET", r"/ImageDefinitions", definitions, True),
    Route("POST", r"/ImageDefinitions", create_definition, True),
    Route("GET", r"/ImageDefinitions/" + _ID, definition, True),
    Route("GET", r"/ImageDefinitions/" + _ID + r"/ImageVersions", versions, True),
    Route("POST", r"/ImageDefinitions/" + _ID + r"/ImageVersions", create_version, True),
    Route("GET", r"/ImageDefinitions/" + _ID + r"/ImageVersions/(?P<number>[^/$]+)", version, True),
    Route("PUT", r"/ImageDefinitions/" + _ID + r"/ImageVersions/(?P<number>[^/$]+)/\$UpdateResourcePools", share_version, True),
    Route("GET", r"/Jobs", jobs, True),
    Route("GET", r"/Jobs/" + _ID, job, True),
    Route("POST", r"/Jobs/" + _ID + r"/\$cancel", cancel_job, True),
]
_COMPILED = [(route, re.compile(route.pattern + r"/?\Z", re.IGNORECASE)) for route in ROUTES]


def owns(path):
    return any(path == base or path.startswith(base + "/") for base in (rules.BASE, rules.ONPREM_BASE))


def dispatch(daas, tokens, req):
    """Answer one /cvad/manage or on-premises /citrix/orchestration/api request: (status, body, headers)."""
    if req.route == rules.ONPREM_BASE or req.route.startswith(rules.ONPREM_BASE + "/"):
        return _onprem(daas, tokens, req)
    if req.headers.get("Citrix-CustomerId") == rules.ONPREM_CUSTOMER:
        raise ApiError(401, "An on-premises token (customer %s) is not valid on Citrix Cloud." % rules.ONPREM_CUSTOMER, field="Authorization")
    return _route(daas, req, req.route[len(rules.BASE):] or "/", lambda: tokens.check(req.headers), site_only=False)


def _onprem(daas, tokens, req):
    kind, rest = onprem.split(daas, req.route[len(rules.ONPREM_BASE):])
    if kind == "tokens":
        return onprem.sign_in(daas, tokens, req)
    if req.method != "GET" and kind in ("me", "sites"):
        raise ApiError(405, "%s is not allowed on %s; allowed: GET." % (req.method, req.path), field="method", headers={"Allow": "GET"})
    onprem.check(tokens, req.headers)
    if kind == "me":
        return 200, daas.me(rules.ONPREM_CUSTOMER), {}
    if kind == "sites":
        return (200, daas.site(rest), {}) if rest else (200, {"Items": [daas.site()]}, {})
    req.daas_base = "%s/%s/%s" % (rules.ONPREM_BASE, rules.ONPREM_CUSTOMER, daas.site_id)
    return _route(daas, req, rest, lambda: None, site_only=True)


def _route(daas, req, path, authorize, site_only):
    """One resource route of ROUTES (site_only: under /{customer}/{site}/, where /me and /Sites are not served)."""
    matches = [(route, m.groupdict()) for route, pattern in _COMPILED for m in [pattern.match(path)] if m and (route.site or not site_only)]
    if not matches:
        raise error(404, "There is no route %s %s." % (req.method, req.path), "NotFound")
    chosen = [(r, g) for r, g in matches if r.method == req.method]
    if not chosen:
        allowed = ", ".join(sorted(set(r.method for r, g in matches)))
        raise ApiError(405, "%s is not allowed on %s; allowed: %s." % (req.method, req.path, allowed), field="method", headers={"Allow": allowed})
    route, groups = chosen[0]
    authorize()
    if route.site:
        daas.check_instance(req.headers)
    daas.jobs.settle()
    return route.func(daas, req, **groups)
