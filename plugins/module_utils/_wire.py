# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table that knows the Citrix Cloud / IPS wire format.

Every route, header and JSON field name the collection sends or reads is here and nowhere else,
each with the flag the research gave it (docs in the repository: reference ips-api.md):

  SEEN         read in a Citrix source (docs, PowerShell module, tests)
  INFERRED     a reasoned guess (naming patterns, ancestor modules)
  UNCONFIRMED  named by the product summary only

When the real service disagrees with an INFERRED name, fix it here: it is a one-line change.
The local lab keeps its own, independent copy of these rules on purpose.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

SEEN = "seen"
INFERRED = "inferred"
UNCONFIRMED = "unconfirmed"

Name = namedtuple("Name", ["json", "flag"])
Route = namedtuple("Route", ["method", "path", "flag"])

# --- hosts and auth -------------------------------------------------------------------------

REGION_API_URLS = {
    "us": "https://api-us.cloud.com",  # SEEN
    "eu": "https://api-eu.cloud.com",  # SEEN
    "ap-s": "https://api-ap-s.cloud.com",  # SEEN
    "jp": "https://api.citrixcloud.jp",  # SEEN
}

TOKEN_ROUTE = Route("POST", "cctrustoauth2/{customer_id}/tokens/clients", SEEN)
TOKEN_FORM = {
    "grant_type": Name("grant_type", SEEN),
    "client_id": Name("client_id", SEEN),
    "client_secret": Name("client_secret", SEEN),
}
TOKEN_GRANT_TYPE = "client_credentials"  # SEEN
TOKEN_RESPONSE = {
    "access_token": Name("access_token", SEEN),
    "expires_in": Name("expires_in", SEEN),  # a string in the docs' example; accept int too
}

HEADER_AUTHORIZATION = Name("Authorization", SEEN)
AUTHORIZATION_FORMAT = "CwsAuth Bearer={token}"  # SEEN
HEADER_CUSTOMER_ID = Name("Citrix-CustomerId", SEEN)
HEADER_TRANSACTION_ID = Name("Citrix-TransactionId", INFERRED)
HEADER_RETRY_AFTER = Name("Retry-After", INFERRED)
CONTENT_TYPE_JSON = "application/json;charset=utf-8"  # SEEN
ACCEPT_JSON = "application/json"  # SEEN

# --- routes -------------------------------------------------------------------------------------

IPS_BASE_PATH = "ips/"  # SEEN: https://api-us.cloud.com/ips/jobs/

ROUTES = {
    "credentials": Route("GET", "credentials", SEEN),
    "credential_create": Route("POST", "credentials", SEEN),
    "credential": Route("GET", "credentials/{id}", INFERRED),
    "credential_update": Route("PUT", "credentials/{id}", INFERRED),
    "credential_delete": Route("DELETE", "credentials/{id}", INFERRED),
    "jobs": Route("GET", "jobs", SEEN),
    "job": Route("GET", "jobs/{id}", SEEN),
    "job_cancel": Route("DELETE", "jobs/{id}", INFERRED),
    "export": Route("POST", "images/$export", SEEN),
    "prepare": Route("POST", "images/$prepare", INFERRED),
    "prepare_and_publish": Route("POST", "images/$prepareAndPublish", INFERRED),
    "convert_to_uefi": Route("POST", "images/$convertToUefi", SEEN),
    "upgrade_pvs": Route("POST", "images/$upgradePvs", SEEN),
    "reverse_image": Route("POST", "images/$reverseImage", SEEN),
    "diagnostics": Route("POST", "images/$diagnostics", INFERRED),
}

# Outside the ips/ base: the unauthenticated module-version check.
MODULE_VERSIONS_ROUTE = Route("GET", "info/powershellModuleVersions", SEEN)

QUERY_DRY_RUN = Name("dryRun", SEEN)
QUERY_CONTINUATION = Name("continuationToken", INFERRED)
QUERY_CREDENTIAL_TYPE = Name("type", INFERRED)

# --- credential wallet --------------------------------------------------------------------------

# Ansible `type` choice -> wallet type name.
CREDENTIAL_TYPES = {
    "username_password": Name("UsernamePassword", SEEN),
    "aws": Name("Aws", SEEN),
    "azure": Name("Azure", SEEN),
    "gcp": Name("Gcp", SEEN),
}

CREDENTIAL_ID = Name("id", SEEN)
CREDENTIAL_TYPE = Name("type", SEEN)
CREDENTIAL_STATE = Name("state", SEEN)
CREDENTIAL_CREATED_AT = Name("createdAt", SEEN)
CREDENTIAL_UPDATED_AT = Name("updatedAt", SEEN)

# Ansible option -> wallet JSON field, per credential type. `secret` marks values never echoed.
CredentialField = namedtuple("CredentialField", ["json", "flag", "secret", "required"])
CREDENTIAL_FIELDS = {
    "username_password": {
        "username": CredentialField("username", SEEN, False, True),
        "password": CredentialField("password", SEEN, True, True),
        "domain": CredentialField("domain", SEEN, False, False),
    },
    "aws": {
        "aws_access_key_id": CredentialField("accessKeyId", INFERRED, False, True),
        "aws_secret_access_key": CredentialField("secretAccessKey", INFERRED, True, True),
        "aws_session_token": CredentialField("sessionToken", INFERRED, True, False),
    },
    "azure": {
        "azure_tenant_id": CredentialField("tenantId", INFERRED, False, True),
        "azure_client_id": CredentialField("clientId", INFERRED, False, True),
        "azure_client_secret": CredentialField("clientSecret", INFERRED, True, True),
    },
    "gcp": {
        "gcp_service_account_key": CredentialField("serviceAccountKey", INFERRED, True, True),
    },
}

# --- jobs ---------------------------------------------------------------------------------------

JOB_FIELDS = {
    "id": Name("id", SEEN),
    "type": Name("type", INFERRED),
    "status": Name("status", SEEN),
    "progress": Name("overallProgressPercent", SEEN),
    "parameters": Name("parameters", SEEN),
    "additional_info": Name("additionalInfo", SEEN),
    "artifacts": Name("artifacts", SEEN),  # inside additionalInfo
    "error": Name("error", SEEN),
    "warnings": Name("warnings", INFERRED),
    "stage": Name("currentStep", INFERRED),
    "created_at": Name("createdAt", INFERRED),
    "updated_at": Name("updatedAt", INFERRED),
}

JOB_STATUS_RUNNING = ("inProgress",)  # SEEN
JOB_STATUS_COMPLETE = ("complete",)  # SEEN
JOB_STATUS_CANCELLED = ("cancelled", "canceled")  # INFERRED; both spellings accepted
# Anything else reported by the service is a terminal failure (e.g. "failed", INFERRED).

JOB_LIST_ITEMS = Name("items", SEEN)
JOB_LIST_CONTINUATION = Name("continuationToken", SEEN)

# The service's job type names as reported in `type`, by the collection's name for them.
JOB_TYPES = {
    "export": Name("export", INFERRED),
    "prepare": Name("prepare", INFERRED),
    "prepare_and_publish": Name("prepareAndPublish", INFERRED),
    "convert_to_uefi": Name("convertToUefi", INFERRED),
    "upgrade_pvs": Name("upgradePvs", INFERRED),
    "reverse_image": Name("reverseImage", INFERRED),
    "diagnostics": Name("diagnostics", INFERRED),
}

# Fields common to every job request body.
JOB_COMMON_FIELDS = {
    "platform": Name("platform", INFERRED),
    "resource_location_id": Name("resourceLocationId", SEEN),
    "platform_credential_id": Name("platformCredentialId", SEEN),
    "prefix": Name("prefix", SEEN),
    "tags": Name("tags", SEEN),
}

# Platform names in the body, by the collection's option value.
PLATFORMS = {
    "vsphere": Name("vsphere", SEEN),
    "xenserver": Name("xen", SEEN),
    "nutanix": Name("ahv", SEEN),
    "azure": Name("azure", SEEN),
    "aws": Name("aws", SEEN),
    "gcp": Name("gcp", SEEN),
}

# The collection's idempotency key travels in the job's tags under this name.
IDEMPOTENCY_TAG = "ips-ansible-key"
