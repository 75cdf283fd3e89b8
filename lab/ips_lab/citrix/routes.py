"""The Citrix Cloud routes: the token endpoint, IPS info, credentials and jobs (under /ips/ and bare)."""

import re
from collections import namedtuple

from ..common import rules
from ..common.errors import ApiError

Route = namedtuple("Route", ["method", "pattern", "func", "auth", "ips"])
_IPS_PREFIX = "/ips"
_JOB_TYPE_BY_ROUTE = {spec.route: name for name, spec in rules.JOB_TYPES.items()}


def issue_token(lab, req, customer):
    return 200, lab.tokens.issue(customer, req.headers.get("Content-Type"), req.body), {}


def module_versions(lab, req):
    return 200, dict(rules.MODULE_VERSIONS), {}


def list_credentials(lab, req):
    return 200, lab.wallet.list(req.params.get("type")), {}


def create_credential(lab, req):
    return 201, lab.wallet.create(req.json()), {}


def get_credential(lab, req, ident):
    return 200, lab.wallet.get(ident), {}


def replace_credential(lab, req, ident):
    return 200, lab.wallet.replace(ident, req.json()), {}


def delete_credential(lab, req, ident):
    lab.wallet.delete(ident)
    return 204, None, {}


def list_resource_locations(lab, req):
    """Citrix Cloud's resource locations of the customer (the platform API, not under /ips/)."""
    del req
    items = [{"id": rl, "name": "ips-lab-location-%d" % (i + 1), "internalOnly": False, "timeZone": "UTC", "readOnly": False}
             for i, rl in enumerate(lab.config["resource_location_ids"])]
    return 200, {"items": items}, {}


def _dry_run(req):
    value = req.params.get("dryRun", "false").lower()
    if value not in ("true", "false"):
        raise ApiError(400, "The query parameter 'dryRun' must be true or false (got '%s')." % value, field="dryRun")
    return value == "true"


def submit_job(lab, req, verb):
    job_type = _JOB_TYPE_BY_ROUTE.get("images/$%s" % verb)
    if job_type is None:
        raise ApiError(404, "There is no image operation '$%s'." % verb, field="route")
    status, answer = lab.jobs.submit(job_type, req.json(), dry_run=_dry_run(req))
    headers = {"Location": "/ips/jobs/%s" % answer["id"]} if status == 202 else {}
    return status, answer, headers


def list_jobs(lab, req):
    return 200, lab.jobs.list(req.params.get("limit"), req.params.get("continuationToken")), {}


def get_job(lab, req, ident):
    return 200, lab.jobs.get(ident), {}


def cancel_job(lab, req, ident):
    return 200, lab.jobs.cancel(ident), {}


ROUTES = [
    Route("POST", r"/cctrustoauth2/(?P<customer>[^/]+)/tokens/clients", issue_token, False, False),
    Route("GET", r"/info/powershellModuleVersions", module_versions, False, True),
    Route("GET", r"/credentials", list_credentials, True, True),
    Route("POST", r"/credentials", create_credential, True, True),
    Route("GET", r"/credentials/(?P<ident>[^/]+)", get_credential, True, True),
    Route("PUT", r"/credentials/(?P<ident>[^/]+)", replace_credential, True, True),
    Route("DELETE", r"/credentials/(?P<ident>[^/]+)", delete_credential, True, True),
    Route("POST", r"/images/\$(?P<verb>[A-Za-z]+)", submit_job, True, True),
    Route("GET", r"/resourcelocations", list_resource_locations, True, False),
    Route("GET", r"/jobs", list_jobs, True, True),
    Route("GET", r"/jobs/(?P<ident>[^/$]+)", get_job, True, True),
    Route("DELETE", r"/jobs/(?P<ident>[^/$]+)", cancel_job, True, True),
    Route("POST", r"/jobs/(?P<ident>[^/$]+)/\$cancel", cancel_job, True, True),
]
_COMPILED = [(route, re.compile(route.pattern + r"/?\Z")) for route in ROUTES]


def _match(path):
    """Routes whose pattern matches `path`, with their captured groups."""
    ips_path = path[len(_IPS_PREFIX):] if path.startswith(_IPS_PREFIX + "/") else None
    found = []
    for route, pattern in _COMPILED:
        for candidate in (path, ips_path) if route.ips else (path,):
            match = pattern.match(candidate) if candidate is not None else None
            if match:
                found.append((route, match.groupdict()))
                break
    return found


def admits_json(accept):
    """Whether an Accept header admits application/json (no header admits everything)."""
    if not accept:
        return True
    for item in accept.split(","):
        media, *params = [p.strip().lower() for p in item.split(";")]
        weights = [p[2:] for p in params if p.startswith("q=")]
        try:
            if weights and float(weights[0]) == 0:
                continue
        except ValueError:
            continue
        if media in ("application/json", "application/*", "*/*"):
            return True
    return False


def dispatch(lab, req):
    matches = _match(req.route)
    if not matches:
        raise ApiError(404, "There is no route %s %s." % (req.method, req.path), field="route")
    chosen = [(r, groups) for r, groups in matches if r.method == req.method]
    if not chosen:
        allowed = ", ".join(sorted(set(route.method for route, groups in matches)))
        raise ApiError(405, "%s is not allowed on %s; allowed: %s." % (req.method, req.path, allowed), field="method", headers={"Allow": allowed})
    route, groups = chosen[0]
    if route.auth:
        lab.tokens.check(req.headers)
    if not admits_json(req.headers.get("Accept")):
        raise ApiError(406, "The Accept header must admit application/json (got '%s')." % req.headers.get("Accept"), field="Accept")
    return route.func(lab, req, **groups)
