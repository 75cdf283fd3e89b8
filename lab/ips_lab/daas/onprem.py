"""The on-premises Orchestration API of the DaaS stand-in: what a Delivery Controller serves under
/citrix/orchestration/api (rules.ONPREM_BASE), over the same site, catalogs and jobs as /cvad/manage.

  POST /tokens                      HTTP Basic with the lab's Citrix admin (config daas_admin_user / daas_admin_password):
                                    200 {Token, Principal, UserId, CustomerId, ExpiresAt}; 401 + WWW-Authenticate otherwise
  GET  /me                          the admin's customer (CitrixOnPremises) and its site
  GET  /CitrixOnPremises/Sites[/{site}]
  *    /CitrixOnPremises/{site}/... every resource route of routes.ROUTES (catalogs, hypervisors, images, jobs)

Every call but /tokens needs `Authorization: CWSAuth bearer=<that token>` and `Citrix-CustomerId: CitrixOnPremises`;
a Citrix Cloud token is refused here (401), and an on-premises token on /cvad/manage (routes.dispatch).
Tokens expire after the lab's token_ttl, like the cloud ones (the same token store, citrix/auth.py).
"""

import base64
import binascii
import hmac
import time

from ..common.errors import ApiError
from . import rules
from .site import error


def _basic(headers):
    """(user, password) of an HTTP Basic Authorization header, or None."""
    header = headers.get("Authorization") or ""
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return None
    return (user, password) if sep else None


def _refuse(message):
    raise ApiError(401, message, field="Authorization", headers={"WWW-Authenticate": 'Basic realm="Citrix Orchestration"'})


def sign_in(daas, tokens, req):
    if req.method != "POST":
        raise ApiError(405, "%s is not allowed on %s; allowed: POST." % (req.method, req.path), field="method", headers={"Allow": "POST"})
    given = _basic(req.headers)
    if given is None:
        _refuse("Sign in with HTTP Basic authentication (a Citrix administrator's domain\\user and password).")
    user, password = daas.admin
    if not (hmac.compare_digest(given[0].lower(), (user or "").lower()) and hmac.compare_digest(given[1], password or "")):
        _refuse("The user name or password is incorrect.")
    token, expires_at = tokens.new_token(rules.ONPREM_CUSTOMER, user)
    fields = dict(zip(("token", "principal", "user", "customer", "expires"), rules.ONPREM_TOKEN_FIELDS))
    return 200, {fields["token"]: token, fields["principal"]: user, fields["user"]: "S-1-5-21-1000-1000-1000-500",
                 fields["customer"]: rules.ONPREM_CUSTOMER,
                 fields["expires"]: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))}, {}


def check(tokens, headers):
    """The on-premises token: known, not expired, and the customer CitrixOnPremises (a cloud token is 401 here)."""
    if headers.get("Citrix-CustomerId") and headers.get("Citrix-CustomerId") != rules.ONPREM_CUSTOMER:
        raise ApiError(401, "The Citrix-CustomerId on a Delivery Controller is %s; a Citrix Cloud token is not valid here."
                       % rules.ONPREM_CUSTOMER, field="Citrix-CustomerId")
    tokens.check(headers)


def split(daas, path):
    """(kind, rest) of a path under ONPREM_BASE: ("tokens"|"me"|"sites"|"site", ident or the resource path)."""
    parts = [p for p in path.split("/") if p]
    if parts == ["tokens"]:
        return "tokens", None
    if parts == ["me"]:
        return "me", None
    if not parts:
        raise error(404, "There is no route %s." % (rules.ONPREM_BASE + path), "NotFound")
    if parts[0].lower() != rules.ONPREM_CUSTOMER.lower():
        raise error(404, "The customer '%s' is not known on this Delivery Controller (it is %s)." % (parts[0], rules.ONPREM_CUSTOMER),
                    "CustomerNotFound")
    if len(parts) >= 2 and parts[1].lower() == "sites":
        return "sites", parts[2] if len(parts) == 3 else None
    if len(parts) < 3:
        raise error(404, "There is no route %s." % (rules.ONPREM_BASE + path), "NotFound")
    if parts[1].lower() not in (daas.site_id.lower(), "ips-lab-site"):
        raise error(404, "The site '%s' was not found." % parts[1], "SiteNotFound")
    return "site", "/" + "/".join(parts[2:])
