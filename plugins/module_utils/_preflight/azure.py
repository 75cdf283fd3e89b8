# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of an Azure identity: its effective permissions at each scope the job and the upload use,
through ARM's authorization API (`{scope}/providers/Microsoft.Authorization/permissions`), compared with
the documented lists (permissions.py).

The identity is the one the options sign in with (the upload's: ips_upload's azure dict). ARM answers the
permissions of the caller, so the wallet's Azure credential is checked when it is the same app
registration (docs/preflight.md says how to check another one).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, could_not_check, item, permissions

PERMISSIONS_API_VERSION = "2022-04-01"
ARM = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"


def allowed(entries, action):
    """Whether ARM's permission entries allow `action`: some entry's actions match it and that entry's notActions do not."""
    low = action.lower()
    for entry in entries:
        if any(fnmatch.fnmatchcase(low, a.lower()) for a in entry.get("actions") or []) and \
                not any(fnmatch.fnmatchcase(low, n.lower()) for n in entry.get("notActions") or []):
            return True
    return False


def scopes(connection, subscription):
    """[(scope id, Needed, option)] the migration uses, from the job's azure dict."""
    sub = "/subscriptions/%s" % subscription

    def rg(name):
        return "%s/resourceGroups/%s" % (sub, name)

    out = []
    if connection.get("vm_resource_group"):
        out.append((rg(connection["vm_resource_group"]), permissions.AZURE_CE_RESOURCE_GROUP, "vm_resource_group"))
        if connection.get("network_isolation"):
            out.append((rg(connection["vm_resource_group"]), permissions.AZURE_ISOLATION_RG, "network_isolation"))
    else:
        out.append((sub, permissions.AZURE_SUBSCRIPTION, "subscription_id"))
        if connection.get("network_isolation"):
            out.append((sub, permissions.AZURE_ISOLATION_SUBSCRIPTION, "network_isolation"))
    if connection.get("resource_group"):
        out.append((rg(connection["resource_group"]), permissions.AZURE_TARGET_DISKS, "resource_group"))
        out.append((rg(connection["resource_group"]), permissions.AZURE_UPLOAD, "upload"))
    if connection.get("vnet_resource_group"):
        out.append((rg(connection["vnet_resource_group"]), permissions.AZURE_VNET, "vnet_resource_group"))
    return out


def check(connection, sign_in, timeout=30):
    """Items: one per (scope, documented list)."""
    from ansible.module_utils.urls import open_url

    subscription = connection.get("subscription_id") or sign_in.get("subscription_id")
    secrets = [sign_in.get("client_secret"), sign_in.get("x509_certificate_password")]
    if not subscription:
        return [item("azure permissions", MISSING, "no subscription_id given", "set target.connection.subscription_id")]
    wanted = scopes(connection, subscription)
    try:
        from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import credential

        ca = sign_in.get("ca_path") or True
        token = credential(sign_in, ca).get_token(sign_in.get("arm_scope") or ARM_SCOPE).token
    except Exception as exc:  # pylint: disable=broad-except
        return [could_not_check("azure sign-in", exc, "check target.upload's tenant_id, client_id and client_secret (or auth_source)",
                                "/subscriptions/%s" % subscription, secrets)]
    base = (sign_in.get("arm_endpoint") or ARM).rstrip("/")
    items = [item("azure sign-in", OK, "signed in as client %s" % (sign_in.get("client_id") or "(default chain)"),
                  scope="/subscriptions/%s" % subscription)]
    answers = {}
    for scope, needed, option in wanted:
        name = "azure permissions: %s" % needed.why
        if scope not in answers:
            try:
                resp = open_url("%s%s/providers/Microsoft.Authorization/permissions?api-version=%s" % (base, scope, PERMISSIONS_API_VERSION),
                                headers={"Authorization": "Bearer %s" % token, "Accept": "application/json"}, timeout=timeout,
                                ca_path=sign_in.get("ca_path"), follow_redirects="none")
                answers[scope] = json.loads(resp.read().decode("utf-8")).get("value") or []
            except Exception as exc:  # pylint: disable=broad-except
                answers[scope] = exc
        got = answers[scope]
        if isinstance(got, Exception):
            items.append(could_not_check(name, got, "give the identity Microsoft.Authorization/permissions/read (any built-in role "
                                         "has it) or check the scope exists (%s)" % option, scope, secrets + [token]))
            continue
        lacking = [a for a in needed.actions if not allowed(got, a)]
        flag = "" if needed.flag == permissions.SEEN else " (list inferred, see docs/preflight.md)"
        if lacking:
            items.append(item(name, MISSING, "missing at %s: %s%s" % (scope, ", ".join(lacking), flag),
                              "add %s to the role assigned at %s (or assign Contributor there)" % (", ".join(lacking), scope), scope))
        else:
            items.append(item(name, OK, "all %d documented actions allowed%s" % (len(needed.actions), flag), scope=scope))
    return items
