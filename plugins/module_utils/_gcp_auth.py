# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GCP sign-in for the modules that call Google Cloud themselves (ips_upload target gcp, ips_gcp_image,
ips_gcp_instance_template): an
OAuth access token, a service-account key (JSON text or dict), a key file, or application default credentials.
The secrets it meets are appended to `secrets`, so the caller can keep them out of every message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.basic import env_fallback

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
NO_CREDENTIALS = ("no GCP credentials: set gcp.service_account_key, gcp.service_account_file or gcp.token (or "
                  "gcp_service_account_contents, gcp_service_account_file, gcp_access_token; GCP_SERVICE_ACCOUNT_CONTENTS, "
                  "GCP_SERVICE_ACCOUNT_FILE, GOOGLE_APPLICATION_CREDENTIALS, GCP_ACCESS_TOKEN), or give the host application "
                  "default credentials (%s)")


def module_options():
    """The argument spec of the project, sign-in and endpoint options of a module that calls Compute Engine itself
    (documented once, in the doc fragment citrix_community.ips.gcp)."""
    return dict(
        gcp_project=dict(type="str", fallback=(env_fallback, ["GCP_PROJECT"])),
        gcp_access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GCP_ACCESS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN"])),
        gcp_service_account_contents=dict(type="raw", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])),
        gcp_service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE", "GOOGLE_APPLICATION_CREDENTIALS"])),
        compute_endpoint=dict(type="str"),
    )


class GcpAuthError(IPSError):
    """No usable GCP sign-in; the message names the options and the variables."""


def credentials(token=None, service_account_key=None, service_account_file=None, secrets=None):
    """google-auth credentials from the first of token, key, key file; else application default credentials."""
    secrets = secrets if secrets is not None else []
    if token:
        secrets.append(token)
        from google.oauth2.credentials import Credentials
        return Credentials(token)
    if service_account_key:
        from google.oauth2 import service_account
        info = json.loads(service_account_key) if isinstance(service_account_key, str) else service_account_key
        if info.get("private_key"):
            secrets.append(info["private_key"])
        return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    if service_account_file:
        from google.oauth2 import service_account
        return service_account.Credentials.from_service_account_file(service_account_file, scopes=SCOPES)
    import google.auth
    try:
        return google.auth.default(scopes=SCOPES)[0]
    except Exception as exc:  # pylint: disable=broad-except
        raise GcpAuthError(NO_CREDENTIALS % type(exc).__name__)
