# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options shared by every module that talks to Citrix Cloud (the `ips` action group).
    DOCUMENTATION = r"""
options:
  customer_id:
    description:
      - The Citrix Cloud customer ID (shown under I(Identity and Access Management > API Access)).
      - If not set, the value of the E(CITRIX_CLOUD_CUSTOMER_ID) environment variable is used.
    type: str
  client_id:
    description:
      - The ID of the Citrix Cloud API client (secure client).
      - If not set, the value of the E(CITRIX_CLOUD_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - The secret of the Citrix Cloud API client. Keep it in Ansible Vault.
      - If not set, the value of the E(CITRIX_CLOUD_CLIENT_SECRET) environment variable is used.
    type: str
  region:
    description:
      - The Citrix Cloud region whose API host is used.
      - Ignored when O(api_url) is set.
      - If not set, the value of the E(CITRIX_CLOUD_REGION) environment variable is used.
    type: str
    choices: [us, eu, ap-s, jp]
    default: us
  api_url:
    description:
      - The base URL of the Citrix Cloud API, for example C(https://api-us.cloud.com).
      - Overrides O(region). Used for private endpoints and for the local lab.
      - If not set, the value of the E(CITRIX_CLOUD_API_URL) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether the TLS certificate of the API is verified.
      - Only set to V(false) for a test endpoint; prefer O(ca_path).
      - If not set, the value of the E(CITRIX_CLOUD_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with CA certificates to trust in addition to the system ones.
      - If not set, the value of the E(CITRIX_CLOUD_CA_PATH) environment variable is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for one HTTP answer before the request counts as failed. From 1 to 3600.
    type: float
    default: 60
  max_retries:
    description:
      - How many times a throttled (429), unavailable (503) or, for reads and idempotent writes,
        interrupted request is retried before the task fails.
      - Job submissions are never retried blindly after a gateway error or a dropped connection,
        because the service may already have accepted them.
      - A throttled answer that says how long to wait (429 with C(Retry-After)) is waited out without
        using up these tries, while such waits add up to at most O(max_retries) times O(retry_max_delay) for
        one request; many runs sharing the tenant's rate limit are paced, not failed.
      - From 0 to 20.
    type: int
    default: 5
  retry_max_delay:
    description:
      - The longest wait, in seconds, between two retries. A C(Retry-After) answer from the service
        is honoured up to this limit. From 0 to 3600.
    type: float
    default: 60
  token_cache:
    description:
      - Keep the Citrix Cloud token between the tasks of a run, so a migration asks the token endpoint once an hour
        rather than once per task. It is renewed shortly before it expires and after the service refuses it.
      - The token is kept in a file readable only by the user who runs the task, under
        C($XDG_CACHE_HOME/citrix_community.ips/tokens/) (else C(~/.cache/...)); the folder is 0700, the file 0600,
        written atomically and named by a hash of the API URL, customer, client id and client secret. A folder or
        file that another user owns or can read is not used.
      - Set V(false) to ask for a token in every task and write nothing.
      - If not set, the value of the E(CITRIX_CLOUD_TOKEN_CACHE) environment variable is used.
    type: bool
    default: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action_group:
    description: Use C(group/citrix_community.ips.ips) in C(module_defaults) to set the auth options once.
    support: full
    membership:
      - citrix_community.ips.ips
notes:
  - The token is requested with the OAuth client-credentials flow, renewed before it expires and
    once more after a C(401) answer, so tasks that wait for hours keep working.
"""
