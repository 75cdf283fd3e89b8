# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of every module that calls Compute Engine itself (ips_gcp_image, ips_gcp_instance_template); their
    # argument spec is _gcp_auth.module_options(), and _gce.from_module() reads them.
    DOCUMENTATION = r"""
options:
  gcp_project:
    description:
      - The Google Cloud project the module works in.
      - If not set, the value of the E(GCP_PROJECT) environment variable is used; one of them is required.
    type: str
  gcp_access_token:
    description:
      - An OAuth access token. Without a token or a key, the host's application default credentials are used.
      - If not set, the value of the E(GCP_ACCESS_TOKEN) or E(GOOGLE_OAUTH_ACCESS_TOKEN) environment variable is used.
    type: str
  gcp_service_account_contents:
    description:
      - A service account key (JSON text or dict).
      - If not set, the value of the E(GCP_SERVICE_ACCOUNT_CONTENTS) environment variable is used.
    type: raw
  gcp_service_account_file:
    description:
      - A service account key file.
      - If not set, the value of the E(GCP_SERVICE_ACCOUNT_FILE) or E(GOOGLE_APPLICATION_CREDENTIALS) environment variable is used.
    type: path
  compute_endpoint:
    description: The Compute Engine API base URL (a private endpoint, or the local lab).
    type: str
requirements:
  - google-auth
"""
