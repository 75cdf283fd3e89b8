# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of Citrix Cloud: the API client authenticates, the resource location exists.

The appliance backend (App Layering appliance over PSRP) is not built yet; `APPLIANCE_CHECKS` is its
extension point: a callable (params) -> items that checks "the appliance answers and the named
connectors exist", registered by the backend when it lands.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSApiError, IPSAuthError, IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import COULD_NOT_CHECK, MISSING, OK, could_not_check, item

# backend name -> callable(params) returning items; the appliance backend adds itself here.
APPLIANCE_CHECKS = {}

AUTH = "citrix cloud api client"
LOCATION = "resource location"


def check(client, resource_location_id, backend="cloud", params=None):
    """Items for the Citrix side of the migration."""
    if backend != "cloud":
        checker = APPLIANCE_CHECKS.get(backend)
        if checker is None:
            return [item("%s backend" % backend, COULD_NOT_CHECK, "the %s backend's preflight (the appliance answers, the named "
                         "connectors exist) is not available in this version of the collection" % backend,
                         "run the preflight with backend: cloud, or check the appliance by hand")]
        return checker(params or {})
    route = _wire.RESOURCE_LOCATIONS_ROUTE
    try:
        data = client.request(route.method, route.path, base="").data or {}
    except IPSAuthError as exc:
        return [item(AUTH, MISSING, str(exc), "create or fix the API client (client_id, client_secret, customer_id) in Citrix Cloud > "
                     "Identity and Access Management > API Access"),
                item(LOCATION, COULD_NOT_CHECK, "not checked: the API client did not authenticate", "fix the API client first")]
    except IPSApiError as exc:
        auth = item(AUTH, OK, "the token endpoint issued a token (customer %s)" % _short(client), scope=client.api_url)
        if exc.status in (401, 403):
            return [item(AUTH, MISSING, str(exc), "give the API client's administrator access to Citrix DaaS"),
                    item(LOCATION, COULD_NOT_CHECK, "not checked: the API client was refused", "fix the API client first")]
        return [auth, could_not_check(LOCATION, exc, "check resource_location_id in Citrix Cloud > Resource Locations by hand")]
    except IPSError as exc:
        return [could_not_check(AUTH, exc, "check api_url / region, ca_path and the network path to Citrix Cloud"),
                item(LOCATION, COULD_NOT_CHECK, "not checked: Citrix Cloud did not answer", "fix the connection first")]
    items = [item(AUTH, OK, "the token endpoint issued a token (customer %s)" % _short(client), scope=client.api_url)]
    known = dict((loc.get(_wire.RESOURCE_LOCATION_ID.json), loc.get(_wire.RESOURCE_LOCATION_NAME.json))
                 for loc in data.get(_wire.RESOURCE_LOCATION_ITEMS.json) or [] if isinstance(loc, dict))
    if not resource_location_id:
        items.append(item(LOCATION, MISSING, "no resource_location_id given", "set resource_location_id (migrate_resource_location_id or "
                          "CITRIX_CLOUD_RESOURCE_LOCATION_ID); the customer has: %s" % _names(known)))
    elif resource_location_id in known:
        items.append(item(LOCATION, OK, "%s (%s) exists" % (resource_location_id, known[resource_location_id]), scope=resource_location_id))
    else:
        items.append(item(LOCATION, MISSING, "the customer has no resource location %s" % resource_location_id,
                          "set resource_location_id to one of: %s" % _names(known), resource_location_id))
    return items


def _short(client):
    return getattr(client, "customer_id", "") or "?"


def _names(known):
    return ", ".join("%s (%s)" % (k, v) for k, v in sorted(known.items())) or "none"
