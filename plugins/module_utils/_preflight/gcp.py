# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of a GCP identity: Cloud Resource Manager's `projects.testIamPermissions` on the project,
for the documented permissions (permissions.py). The caller's own permissions are what the API answers,
so the options sign in as the identity to check (ips_upload's gcp dict).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, could_not_check, item, permissions

RESOURCE_MANAGER = "https://cloudresourcemanager.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
MAX_PER_CALL = 100  # the API's limit


def _credentials(o):
    if o.get("token"):
        from google.oauth2.credentials import Credentials
        return Credentials(o["token"])
    info = o.get("service_account_key")
    if info:
        import json
        from google.oauth2 import service_account
        return service_account.Credentials.from_service_account_info(json.loads(info) if isinstance(info, str) else info, scopes=SCOPES)
    if o.get("service_account_file"):
        from google.oauth2 import service_account
        return service_account.Credentials.from_service_account_file(o["service_account_file"], scopes=SCOPES)
    import google.auth
    return google.auth.default(scopes=SCOPES)[0]


def check(sign_in, project=None, timeout=30):
    project = project or sign_in.get("project")
    secrets = [sign_in.get("token")]
    if not project:
        return [item("gcp permissions", MISSING, "no project given", "set target.upload.project")]
    scope = "projects/%s" % project
    try:
        from google.auth.transport.requests import AuthorizedSession

        http = AuthorizedSession(_credentials(sign_in))
    except Exception as exc:  # pylint: disable=broad-except
        return [could_not_check("gcp sign-in", exc, "set target.upload.token, service_account_key or service_account_file", scope, secrets)]
    url = "%s/v1/projects/%s:testIamPermissions" % ((sign_in.get("resource_manager_endpoint") or RESOURCE_MANAGER).rstrip("/"), project)
    items = []
    for needed in (permissions.GCP_JOB, permissions.GCP_UPLOAD):
        name = "gcp permissions: %s" % needed.why
        granted = set()
        try:
            wanted = list(needed.actions)
            for start in range(0, len(wanted), MAX_PER_CALL):
                resp = http.post(url, json={"permissions": wanted[start:start + MAX_PER_CALL]}, timeout=timeout)
                if resp.status_code >= 400:
                    raise RuntimeError("HTTP %d: %s" % (resp.status_code, resp.text[:300]))
                granted.update(resp.json().get("permissions") or [])
        except Exception as exc:  # pylint: disable=broad-except
            items.append(could_not_check(name, exc, "check the project id and that the identity may see the project", scope, secrets))
            continue
        lacking = [p for p in needed.actions if p not in granted]
        if lacking:
            items.append(item(name, MISSING, "missing on %s: %s" % (scope, ", ".join(lacking)),
                              "grant %s on %s (a custom role, or the documented predefined roles)" % (", ".join(lacking), scope), scope))
        else:
            items.append(item(name, OK, "all %d documented permissions granted" % len(needed.actions), scope=scope))
    return items
