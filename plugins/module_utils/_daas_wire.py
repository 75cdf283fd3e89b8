# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table that knows the Citrix DaaS REST (orchestration) wire format.

Every route, header and JSON name the DaaS client and the MCS modules send or read is here, with
the flag the research gave it (reference: successor-and-mcs.md section 4, applayering-daas.md
section 2, read from Citrix's generated Go client and terraform provider):

  SEEN      read in a Citrix source
  INFERRED  a reasoned guess

Fixing a name is a one-line change here. The lab's DaaS stand-in keeps its own copy on purpose.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._wire import INFERRED, SEEN, Name, Route

BASE_PATH = "cvad/manage/"  # SEEN: https://api.cloud.com/cvad/manage

# On premises (a Delivery Controller's Orchestration API, https://<DDC>/citrix/orchestration/api): SEEN in the generated
# client's set-up. The token comes from POST <base>/tokens with HTTP Basic (a Citrix administrator), no body; the answer
# is TrustAuthResponse {Token, Principal, UserId, CustomerId, ExpiresAt (RFC 3339)}; a status above 200 is a failure.
# /me stays on the base; the site route moves under /{customer}; every other route under /{customer}/{site}.
ONPREM_BASE_EXAMPLE = "https://<DDC>/citrix/orchestration/api"
ONPREM_CUSTOMER_ID = "CitrixOnPremises"  # SEEN: the provider's default, and the API doc's
ONPREM_TOKEN_ROUTE = Route("POST", "tokens", SEEN)
ONPREM_TOKEN = Name("Token", SEEN)
ONPREM_TOKEN_EXPIRES_AT = Name("ExpiresAt", SEEN)
ONPREM_BASIC_FORMAT = "Basic {credentials}"  # RFC 7617; SEEN (HTTP Basic of username:password)
ONPREM_SCOPE = {"me": "", "site": "{customer}/"}  # SEEN; any other route: ONPREM_SITE_SCOPE
ONPREM_SITE_SCOPE = "{customer}/{site}/"  # SEEN

HEADER_INSTANCE_ID = Name("Citrix-InstanceId", SEEN)  # the site id; required on every orchestration call
QUERY_ASYNC = Name("async", SEEN)
QUERY_PATH = Name("path", SEEN)
QUERY_CHILDREN = Name("children", SEEN)
QUERY_NO_CACHE = Name("noCache", SEEN)
HEADER_LOCATION = Name("Location", SEEN)  # of a 202: the job; its last segment is the job id
STATUS_NOT_ACTIVATED = 530  # SEEN: /me answers 530 while DaaS is not activated for the customer

ROUTES = {
    "me": Route("GET", "me", SEEN),
    "site": Route("GET", "Sites/{site}", SEEN),
    "hypervisors": Route("GET", "hypervisors", SEEN),
    "resource_pools": Route("GET", "hypervisors/{connection}/resourcePools", SEEN),
    "resources": Route("GET", "hypervisors/{connection}/resourcePools/{pool}/resources", SEEN),
    "catalogs": Route("GET", "MachineCatalogs", SEEN),
    "catalog": Route("GET", "MachineCatalogs/{catalog}", SEEN),
    "catalog_create": Route("POST", "MachineCatalogs", SEEN),
    "catalog_update_image": Route("POST", "MachineCatalogs/{catalog}/$UpdateProvisioningScheme", SEEN),
    "catalog_rollback_image": Route("POST", "MachineCatalogs/{catalog}/$RollbackProvisioningScheme", SEEN),
    "catalog_image_history": Route("GET", "MachineCatalogs/{catalog}/MasterImageHistory", SEEN),
    "image_definitions": Route("GET", "ImageDefinitions", SEEN),
    "image_definition": Route("GET", "ImageDefinitions/{definition}", SEEN),
    "image_definition_create": Route("POST", "ImageDefinitions", SEEN),
    "image_versions": Route("GET", "ImageDefinitions/{definition}/ImageVersions", SEEN),
    "image_version": Route("GET", "ImageDefinitions/{definition}/ImageVersions/{version}", SEEN),
    "image_version_create": Route("POST", "ImageDefinitions/{definition}/ImageVersions", SEEN),
    "image_version_share": Route("PUT", "ImageDefinitions/{definition}/ImageVersions/{version}/$UpdateResourcePools", SEEN),
    "jobs": Route("GET", "Jobs", SEEN),
    "job": Route("GET", "Jobs/{job}", SEEN),
}

# Lists: {"Items": [...]}
ITEMS = Name("Items", SEEN)

# /me (MeResponseModel)
ME_CUSTOMERS = Name("Customers", SEEN)
ME_SITES = Name("Sites", SEEN)
ID = Name("Id", SEEN)
NAME = Name("Name", SEEN)

# Sites/{id}
SITE_ORCHESTRATION_VERSION = Name("OrchestationApiVersion", SEEN)  # sic: the service's own spelling

# Hypervisor resources (HypervisorResourceResponseModel)
RESOURCE_CHILDREN = Name("Children", SEEN)
RESOURCE_XDPATH = Name("XDPath", SEEN)
RESOURCE_IS_CONTAINER = Name("IsContainer", SEEN)

# Machine catalogs
CATALOG_PROVISIONING_TYPE = Name("ProvisioningType", SEEN)
CATALOG_SESSION_SUPPORT = Name("SessionSupport", SEEN)
CATALOG_HYPERVISOR_CONNECTION = Name("HypervisorConnection", SEEN)
CATALOG_SCHEME = Name("ProvisioningScheme", SEEN)
SCHEME_RESOURCE_POOL = Name("ResourcePool", SEEN)
SCHEME_MASTER_IMAGE = Name("MasterImage", SEEN)
SCHEME_MASTER_IMAGE_NOTE = Name("MasterImageNote", INFERRED)  # SEEN in the request model; in the response model inferred
SCHEME_CURRENT_IMAGE_VERSION = Name("CurrentImageVersion", SEEN)
SCHEME_MACHINE_PROFILE = Name("MachineProfile", INFERRED)  # the response's profile ref (XDPath inside); the request's MachineProfilePath is SEEN
PROVISIONING_MCS = "MCS"  # SEEN
PROVISIONING_PVS = ("PVS", "PVSStreaming")  # SEEN (PVSStreaming: terraform's name)

# $UpdateProvisioningScheme body (UpdateMachineCatalogProvisioningSchemeRequestModel)
UPDATE_IMAGE_FIELDS = {
    "master_image_path": Name("MasterImagePath", SEEN),
    "machine_profile_path": Name("MachineProfilePath", SEEN),
    "image_version": Name("AssignImageVersionToProvisioningScheme", SEEN),
    "store_old_image": Name("StoreOldImage", SEEN),
    "note": Name("MasterImageNote", SEEN),
    "minimum_functional_level": Name("MinimumFunctionalLevel", SEEN),
    "reboot": Name("RebootOptions", SEEN),
}
ASSIGN_VERSION_FIELDS = {
    "definition": Name("ImageDefinition", SEEN),
    "version": Name("ImageVersion", SEEN),
    "note": Name("ImageAssignmentNote", SEEN),
}
REBOOT_FIELDS = {
    "duration": Name("RebootDuration", SEEN),
    "warning_duration": Name("WarningDuration", SEEN),
    "warning_title": Name("WarningTitle", SEEN),
    "warning_message": Name("WarningMessage", SEEN),
    "warning_repeat_interval": Name("WarningRepeatInterval", SEEN),
}

# Catalog create (CreateMachineCatalogRequestModel, minimal documented body)
CREATE_CATALOG_FIELDS = {
    "name": Name("Name", SEEN),
    "description": Name("Description", SEEN),
    "allocation_type": Name("AllocationType", SEEN),
    "provisioning_type": Name("ProvisioningType", SEEN),
    "session_support": Name("SessionSupport", SEEN),
    "persist_user_changes": Name("PersistUserChanges", SEEN),
    "minimum_functional_level": Name("MinimumFunctionalLevel", SEEN),
    "scheme": Name("ProvisioningScheme", SEEN),
}
CREATE_SCHEME_FIELDS = {
    "resource_pool": Name("ResourcePool", SEEN),
    "master_image_path": Name("MasterImagePath", SEEN),
    "machine_profile_path": Name("MachineProfilePath", SEEN),
    "image_version": Name("AssignImageVersionToProvisioningScheme", SEEN),
    "note": Name("MasterImageNote", SEEN),
    "machine_count": Name("NumTotalMachines", SEEN),
}

# Image definitions and versions
DEFINITION_FIELDS = {
    "name": Name("Name", SEEN),
    "description": Name("Description", SEEN),
    "os_type": Name("OsType", SEEN),
    "session_support": Name("VDASessionSupport", SEEN),
    "connection": Name("AssignedHypervisorConnection", SEEN),
    "connection_name": Name("HypervisorConnection", SEEN),
}
VERSION_FIELDS = {
    "description": Name("Description", SEEN),
    "master_image_path": Name("MasterImagePath", SEEN),
    "resource_pool": Name("ResourcePool", SEEN),
    "image_scheme": Name("ImageScheme", SEEN),
}
VERSION_NUMBER = Name("Number", SEEN)
VERSION_STATUS = Name("ImageVersionStatus", SEEN)
VERSION_SPECS = Name("ImageVersionSpecs", SEEN)
SPEC_RESOURCE_POOLS = Name("ResourcePools", SEEN)
SPEC_MASTER_IMAGE = Name("MasterImage", SEEN)
VERSION_SUCCESS = "Success"  # SEEN
SHARE_POOLS = Name("ImageVersionResourcePools", SEEN)
SHARE_POOL = Name("ResourcePool", SEEN)

# Jobs (JobResponseModel)
JOB_TYPE = Name("Type", SEEN)
JOB_STATUS = Name("Status", SEEN)
JOB_PROGRESS = Name("OverallProgressPercent", SEEN)
JOB_PARAMETERS = Name("Parameters", SEEN)
JOB_PARAMETER_VALUE = Name("Value", SEEN)
JOB_ERROR = Name("ErrorString", SEEN)
JOB_ERROR_PARAMETERS = Name("ErrorParameters", SEEN)
JOB_ERROR_DETAILS = "ErrorDetails"  # SEEN: the ErrorParameters entry with the human message
JOB_ERROR_MESSAGE_PREFIX = "ErrorMessage :"  # SEEN (terraform mines lines starting with it)
JOB_PARAM_CATALOG_ID = "Id"  # SEEN
JOB_PARAM_IMAGE_PATH = "MasterImageXDPath"  # SEEN
JOB_RUNNING = ("Unknown", "NotStarted", "InProgress")  # SEEN
JOB_COMPLETE = "Complete"  # SEEN
JOB_WARNING = "CompleteWithWarning"  # SEEN
JOB_FAILED = ("Failed", "Canceled", "NonTerminatingError")  # SEEN (NonTerminatingError counted failed: INFERRED)
JOB_UPDATE_IMAGE = "UpdateMachineCatalogProvisioningScheme"  # SEEN
JOB_CREATE_CATALOG = "CreateMachineCatalog"  # SEEN
JOB_CREATE_VERSION = "CreateImageVersion"  # SEEN

# Error bodies: ErrorResponse{type, detail, parameters} (SEEN) or ErrorData{ErrorMessage} (SEEN)
ERROR_MESSAGE_KEYS = ("detail", "ErrorMessage")
# The "image not found right after it appears" answer: the resource cache is stale (INFERRED wording)
STALE_IMAGE_MARKERS = ("failed to locate", "could not find")

# Image paths of the artifact each cloud's prepare leaves (SEEN in Citrix's MCS SDK samples)
HOSTING_UNITS = "XDHyp:\\HostingUnits\\"
AZURE_FOLDER = "image.folder"
AZURE_GROUP = "{group}.resourcegroup"
AZURE_DISK = "{disk}.manageddisk"
AWS_TEMPLATE = "{name} ({ami}).template"
GCP_IMAGES_FOLDER = "images.folder"
GCP_IMAGE = "{name}.image"
# A GCP instance template is a machine profile (MachineProfilePath), never the master image (INFERRED from the
# reference's machine-profile rows and the terraform provider's notes; the folder and suffix are INFERRED too)
GCP_TEMPLATES_FOLDER = "instanceTemplates.folder"  # INFERRED
GCP_TEMPLATE = "{name}.template"  # INFERRED
