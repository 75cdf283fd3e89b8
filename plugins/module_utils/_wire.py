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
# Citrix Cloud's resource locations of the customer (the platform API at the API host's root, not under ips/):
# the preflight looks for resource_location_id there. Route and names reasoned from the Citrix Cloud platform API.
RESOURCE_LOCATIONS_ROUTE = Route("GET", "resourcelocations", INFERRED)
RESOURCE_LOCATION_ITEMS = Name("items", INFERRED)
RESOURCE_LOCATION_ID = Name("id", INFERRED)
RESOURCE_LOCATION_NAME = Name("name", INFERRED)

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
    "timeout": Name("timeout", INFERRED),  # seconds; ALAPI/WP default 7200, the JSON name is a guess
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
# The collection's own tag: what a job was submitted for when the service's type does not say it (a publish runs
# as an export job, so the service reports it as "export").
KIND_TAG = "ips-ansible-kind"
# --- job bodies: connection and placement of each platform (reference ips-api.md section 3) ------

# option inside the platform's dict -> JSON field. The credential_id of every platform goes to
# JOB_COMMON_FIELDS["platform_credential_id"]; it is not repeated here.
PLATFORM_FIELDS = {
    "vsphere": {
        "host": Name("vsphereHost", SEEN),  # VsphereHost parameter; JSON camelCase inferred from the ALAPI pattern
        "port": Name("vspherePort", SEEN),
        "ssl_ca_certificate": Name("vsphereSslCaCertificate", INFERRED),
        "ssl_fingerprint": Name("vsphereSslFingerprint", UNCONFIRMED),  # summary: vCenterSslFingerprint
        "ssl_no_check_hostname": Name("vsphereSslNoCheckHostname", INFERRED),
        "datacenter": Name("vsphereDatacenter", INFERRED),
        "cluster": Name("vsphereCluster", INFERRED),
        "host_system": Name("vsphereHostSystem", SEEN),  # VsphereHostSystem parameter
        "datastore": Name("vsphereDatastore", INFERRED),
        "network": Name("vsphereNetwork", SEEN),  # VsphereNetwork parameter
        "resource_pool": Name("vsphereResourcePool", INFERRED),
        "folder": Name("vsphereFolder", INFERRED),
    },
    "xenserver": {
        "host": Name("xenHost", SEEN),
        "port": Name("xenPort", SEEN),
        "ssl_ca_certificate": Name("xenSslCaCertificate", INFERRED),
        "ssl_fingerprint": Name("xenSslFingerprint", SEEN),  # XenSslFingerprint parameter
        "ssl_no_check_hostname": Name("xenSslNoCheckHostname", UNCONFIRMED),
        "network": Name("network", SEEN),  # Network parameter (Xen prepare)
        "storage_repository_uuid": Name("storageRepositoryUuid", SEEN),
    },
    "nutanix": {
        "host": Name("prismHost", SEEN),
        "port": Name("prismPort", SEEN),
        "ssl_ca_certificate": Name("prismSslCaCertificate", UNCONFIRMED),
        "ssl_fingerprint": Name("prismSslFingerprint", INFERRED),
        "ssl_no_check_hostname": Name("prismSslNoCheckHostname", INFERRED),
        "network": Name("network", INFERRED),
        "storage_container": Name("storageContainer", INFERRED),
    },
    "azure": {
        "subscription_id": Name("azureSubscriptionId", SEEN),  # AzureSubscriptionId parameter
        "location": Name("azureLocation", SEEN),
        "resource_group": Name("targetResourceGroup", INFERRED),  # ALAPI TargetResourceGroup
        "vm_resource_group": Name("azureVmResourceGroup", INFERRED),  # ALAPI AzureVmResourceGroup
        "vnet_resource_group": Name("azureVirtualNetworkResourceGroupName", SEEN),
        "vnet": Name("azureVirtualNetworkName", SEEN),
        "subnet": Name("azureVirtualNetworkSubnetName", SEEN),
        "use_public_ip": Name("usePublicIp", INFERRED),  # ALAPI UsePublicIP
        "ce_vm_sku": Name("ceVmSku", UNCONFIRMED),
        "network_isolation": Name("networkIsolation", UNCONFIRMED),
    },
    "aws": {
        "region": Name("awsRegion", SEEN),  # AwsRegion config key
        "subnet_id": Name("awsSubnetId", SEEN),  # AwsSubnetId config key
        "security_group_ids": Name("securityGroupIds", SEEN),  # seen in the AWS prepare test body
        "use_public_ip": Name("usePublicIp", INFERRED),
        "ce_instance_type": Name("ceVmInstanceType", INFERRED),
    },
    "gcp": {
        "zone": Name("gcpZone", SEEN),  # GcpZone config key
        "vpc_network": Name("vpcNetworkName", SEEN),
        "vpc_subnet": Name("vpcNetworkSubnetName", SEEN),
        "network_tags": Name("networkTags", SEEN),  # seen in the GCP test bodies
        "use_public_ip": Name("usePublicIp", INFERRED),
        "ce_machine_type": Name("ceVmMachineType", INFERRED),
    },
}

# Which field names the disk a job reads, by platform: "disk" and "snapshot" selectors.
EXPORT_SOURCE_FIELDS = {
    "vsphere": {"disk": Name("sourceDiskName", SEEN)},  # SourceDiskName (2.4.x)
    "xenserver": {"disk": Name("sourceDiskUuid", INFERRED)},
    "nutanix": {"disk": Name("sourceDiskName", INFERRED)},
    "azure": {"disk": Name("targetDiskName", INFERRED), "snapshot": Name("targetSnapshotName", INFERRED)},
    "aws": {"disk": Name("targetVolumeId", INFERRED), "snapshot": Name("targetSnapshotId", INFERRED)},
    "gcp": {"disk": Name("targetDiskName", SEEN)},  # seen in the GCP export test body
}
PREPARE_TARGET_FIELDS = {
    "vsphere": {"disk": Name("targetDiskName", SEEN)},
    "xenserver": {"disk": Name("targetDiskUuid", SEEN)},  # TargetDiskUuid parameter
    "nutanix": {"disk": Name("targetDiskName", INFERRED)},
    "azure": {"disk": Name("targetDiskName", INFERRED), "snapshot": Name("targetSnapshotName", INFERRED)},
    "aws": {"disk": Name("targetVolumeId", INFERRED), "snapshot": Name("targetSnapshotId", INFERRED)},  # AwsTargetSnapshotId config
    "gcp": {"disk": Name("targetImageName", SEEN)},  # the GCP upload produces an image
}
# Where prepare writes a new artifact instead of changing the target in place.
PREPARE_OUTPUT_FIELDS = {
    "disk": Name("outputDiskName", SEEN),
    "snapshot": Name("outputSnapshotName", SEEN),  # Azure only
    "image": Name("outputImageName", SEEN),  # Nutanix AHV only
}

# --- SMB locations (export/publish output, PVS input) ---------------------------------------------

SMB_OUTPUT_LOCATION = Name("outputStorageLocation", SEEN)
SMB_INPUT_LOCATION = Name("inputStorageLocation", INFERRED)  # Set-SmbInputLocation
SMB_LOCATION_FIELDS = {
    "location": Name("location", SEEN),
    "credential_id": Name("credentialId", SEEN),
}
DISK_FORMATS = {
    "vhdx": Name("VhdxDiskFormat", SEEN),
    "vhd": Name("VhdDiskFormat", SEEN),
}

EXPORT_FIELDS = {
    "output_name": Name("outputImageFilename", SEEN),
    "output_format": Name("outputImageFormat", INFERRED),
    "hash_disk": Name("hashDisk", INFERRED),  # HashDisk switch
    "overwrite": Name("overwriteTargetFile", INFERRED),  # as prepare's -Force; not seen on export
}

PREPARE_FIELDS = {
    "provisioning_type": Name("provisioningType", SEEN),
    "xd_reconfigure": Name("xdReconfigure", SEEN),
    "overwrite": Name("overwriteTargetFile", SEEN),
    "domain_unjoin": Name("domainUnjoin", INFERRED),
    "md5_hash": Name("md5Hash", INFERRED),
    "install_misa": Name("installMisa", INFERRED),
    "force_misa": Name("forceMisa", INFERRED),
    "install_mcsio": Name("installMcsio", UNCONFIRMED),
    "install_pvs": Name("installPvs", INFERRED),
}
PROVISIONING_TYPES = {"mcs": Name("Mcs", SEEN), "pvs": Name("Pvs", SEEN)}
XD_RECONFIGURE_NAME = Name("ParameterName", SEEN)
XD_RECONFIGURE_VALUE = Name("ParameterValue", SEEN)
# The names the reference lists for XenDesktopVdaSetup.exe /reconfigure (others pass through).
XD_RECONFIGURE_KNOWN = ("controllers", "portnumber", "enable_hdx_ports")  # SEEN in the help text

PVS_FIELDS = {
    "input_name": Name("inputImageFilename", SEEN),
    "input_format": Name("inputImageFormat", SEEN),
    "output_name": Name("outputImageFilename", SEEN),
    "overwrite": Name("overwriteOutput", SEEN),
    "output_size_mb": Name("outputSizeMb", SEEN),
    "pvs_version": Name("installPvs", INFERRED),  # 2.4.2 assigned installPvs into outputSizeMb by mistake
    "pvs_ssl_ca_certificate": Name("pvsSslCaCertificate", INFERRED),
    "output_disk_name": Name("outputDiskName", INFERRED),  # reverse image: the native vSphere disk
}

DIAGNOSTICS_FIELDS = {
    "ce_logs": Name("ceLogs", SEEN),
    "windows_event_logs": Name("windowsEventLogs", SEEN),
    "ips_data": Name("ipsData", SEEN),
}

# Artifacts a finished job reports in additionalInfo.artifacts -> the module's return value.
ARTIFACTS = {
    "vhd_path": Name("outputImagePath", INFERRED),
    "vhd_filename": Name("outputImageFilename", INFERRED),
    "hash": Name("hash", INFERRED),
    "size_bytes": Name("sizeBytes", INFERRED),
    "disk_name": Name("outputDiskName", INFERRED),
    "disk_id": Name("outputDiskId", INFERRED),
    "snapshot_name": Name("outputSnapshotName", INFERRED),
    "image_name": Name("outputImageName", INFERRED),
    "snapshot_id": Name("snapshotId", INFERRED),
    "volume_id": Name("volumeId", INFERRED),
    "diagnostics_path": Name("outputPath", INFERRED),
}

# --- error messages: JSON field -> the option a user sets -------------------------------------------


def _option_table():
    """JSON field (or dotted path) -> the module option(s) it comes from, for messages that name the option
    instead of the wire name. A JSON name used by several options maps to all of them, joined by ' or '."""
    table = {}

    def add(json_name, option):
        table.setdefault(json_name, [])
        if option not in table[json_name]:
            table[json_name].append(option)

    for location in (SMB_OUTPUT_LOCATION, SMB_INPUT_LOCATION):
        add(location.json, "smb")
        for option, name in SMB_LOCATION_FIELDS.items():
            add("%s.%s" % (location.json, name.json), "smb.%s" % option)
    common = {"platform": "platform", "resource_location_id": "resource_location_id", "prefix": "prefix", "tags": "tags",
              "timeout": "job_timeout", "platform_credential_id": "<platform>.credential_id"}
    for key, name in JOB_COMMON_FIELDS.items():
        add(name.json, common[key])
    for platform, fields in PLATFORM_FIELDS.items():
        for option, name in fields.items():
            add(name.json, "%s.%s" % (platform, option))
    vda = ("xd_reconfigure", "install_misa", "force_misa", "install_mcsio", "install_pvs")
    for fields in (EXPORT_FIELDS, PREPARE_FIELDS, PVS_FIELDS, DIAGNOSTICS_FIELDS):
        for option, name in fields.items():
            add(name.json, "force" if option == "overwrite" else "vda.%s" % option if option in vda else option)
    for kind, name in PREPARE_OUTPUT_FIELDS.items():
        add(name.json, "output_%s_name" % kind)
    return dict((json_name, " or ".join(options)) for json_name, options in table.items())


OPTION_NAMES = _option_table()


def option_name(field):
    """The option behind a JSON field name or dotted path the service names in an error, or None."""
    return OPTION_NAMES.get(field)
