"""The lab's OWN copy of the IPS wire rules: field names, types, stages. The Citrix Cloud stand-in
validates with them (citrix/validation.py) and the jobs' work reads them (jobwork/), so they live
here, below both.

Never import the collection's _wire.py here: if both sides read one table, a wrong name would pass
both. Names come from reference ips-api.md (sections 3, 4, 6); most are [inferred] there, so the
tables are plain data that later work can tighten without touching the validator.

A field spec is Field(kind, required, choices). Kinds the validator knows:
  str          non-empty string            int        integer (not bool)     bool    true/false
  strs         list of non-empty strings   tags       object of string -> string
  enum         one of `choices`            md5        32 hex characters
  smb          {"location": "smb://host/share/path/", "credentialId": "<wallet id>"} (keys case-insensitive)
  xd           list of {"ParameterName": str, "ParameterValue": str}
  gcp_key      object, or a JSON string of an object, with the keys in GCP_KEY_REQUIRED
"""

from collections import namedtuple

Field = namedtuple("Field", ["kind", "required", "choices"])


def req(kind, choices=()):
    return Field(kind, True, tuple(choices))


def opt(kind, choices=()):
    return Field(kind, False, tuple(choices))


# --- credential wallet (section 6) ------------------------------------------------------------

CREDENTIAL_TYPES = {
    "UsernamePassword": {"username": req("str"), "password": req("str"), "domain": opt("str")},
    "Aws": {"accessKeyId": req("str"), "secretAccessKey": req("str"), "sessionToken": opt("str")},
    "Azure": {"tenantId": req("str"), "clientId": req("str"), "clientSecret": req("str")},
    "Gcp": {"serviceAccountKey": req("gcp_key")},
}
GCP_KEY_REQUIRED = ("type", "project_id", "private_key", "client_email")
CREDENTIAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

# --- jobs (sections 3 and 4) ------------------------------------------------------------------

PLATFORMS = ("vsphere", "xen", "ahv", "azure", "aws", "gcp")

# The wallet type a platform's platformCredentialId must have.
PLATFORM_CREDENTIAL_TYPE = {
    "vsphere": "UsernamePassword",
    "xen": "UsernamePassword",
    "ahv": "UsernamePassword",
    "azure": "Azure",
    "aws": "Aws",
    "gcp": "Gcp",
}
# SMB locations authenticate with this wallet type.
SMB_CREDENTIAL_TYPE = "UsernamePassword"

COMMON_FIELDS = {
    "platform": req("enum", PLATFORMS),
    "resourceLocationId": req("str"),
    "platformCredentialId": req("str"),
    "prefix": opt("str"),
    "tags": opt("tags"),
    "timeout": opt("int"),
    "networkTags": opt("strs"),
    "securityGroupIds": opt("strs"),
    "assetsId": opt("str"),
    "flags": opt("strs"),
}

# Connection and placement fields of each platform (permissive but typed for now).
PLATFORM_FIELDS = {
    "vsphere": {
        "vsphereHost": opt("str"), "vspherePort": opt("int"), "vsphereSslFingerprint": opt("str"),
        "vsphereSslCaCertificate": opt("str"), "vsphereSslNoCheckHostname": opt("bool"),
        "vsphereDatacenter": opt("str"), "vsphereCluster": opt("str"), "vsphereHostSystem": opt("str"),
        "vsphereDatastore": opt("str"), "vsphereNetwork": opt("str"), "vsphereResourcePool": opt("str"),
        "vsphereFolder": opt("str"),
    },
    "xen": {
        "xenHost": opt("str"), "xenPort": opt("int"), "xenSslFingerprint": opt("str"),
        "xenSslCaCertificate": opt("str"), "xenSslNoCheckHostname": opt("bool"),
        "network": opt("str"), "storageRepositoryUuid": opt("str"),
    },
    "ahv": {
        "prismHost": opt("str"), "prismPort": opt("int"), "prismSslFingerprint": opt("str"),
        "prismSslCaCertificate": opt("str"), "prismSslNoCheckHostname": opt("bool"),
        "network": opt("str"), "storageContainer": opt("str"),
    },
    "azure": {
        "azureSubscriptionId": opt("str"), "azureLocation": opt("str"),
        "azureVirtualNetworkResourceGroupName": opt("str"), "azureVirtualNetworkName": opt("str"),
        "azureVirtualNetworkSubnetName": opt("str"), "targetResourceGroup": opt("str"),
        "targetDiskResourceGroupName": opt("str"), "azureVmResourceGroup": opt("str"),
        "usePublicIp": opt("bool"), "ceVmSku": opt("str"), "networkIsolation": opt("bool"),
    },
    "aws": {
        "awsRegion": opt("str"), "awsSubnetId": opt("str"), "usePublicIp": opt("bool"),
        "ceVmInstanceType": opt("str"),
    },
    "gcp": {
        "gcpZone": opt("str"), "vpcNetworkName": opt("str"), "vpcNetworkSubnetName": opt("str"),
        "usePublicIp": opt("bool"), "ceVmMachineType": opt("str"),
    },
}

DISK_FORMATS = ("VhdxDiskFormat", "VhdDiskFormat")
DISK_EXTENSIONS = {"VhdxDiskFormat": "vhdx", "VhdDiskFormat": "vhd"}
DEFAULT_DISK_FORMAT = "VhdxDiskFormat"

# Which field names the disk a job reads, per platform (reference ips-api.md 3.3 and 3.4). Exactly
# one of the platform's selectors must be present; another platform's selector is an unknown field.
EXPORT_SOURCES = {
    "vsphere": ("sourceDiskName",),
    "xen": ("sourceDiskUuid",),
    "ahv": ("sourceDiskName",),
    "azure": ("targetDiskName", "targetSnapshotName"),
    "aws": ("targetVolumeId", "targetSnapshotId"),
    "gcp": ("targetDiskName",),
}
PREPARE_TARGETS = {
    "vsphere": ("targetDiskName",),
    "xen": ("targetDiskUuid",),
    "ahv": ("targetDiskName",),
    "azure": ("targetDiskName", "targetSnapshotName"),
    "aws": ("targetVolumeId", "targetSnapshotId"),
    "gcp": ("targetImageName", "targetDiskName"),  # prepare reads the uploaded image; prepare-and-publish's config names a disk
}
ALL_SELECTORS = tuple(sorted(set(f for table in (EXPORT_SOURCES, PREPARE_TARGETS) for fields in table.values() for f in fields)))
# What prepare writes when it does not prepare the target in place, and where each is possible.
PREPARE_OUTPUTS = {
    "outputDiskName": ("vsphere", "xen", "azure", "aws", "gcp"),
    "outputSnapshotName": ("azure",),
    "outputImageName": ("ahv",),
}
SMB_OUTPUT_FIELDS = {
    "outputStorageLocation": req("smb"), "outputImageFilename": req("str"),
    "outputImageFormat": opt("enum", DISK_FORMATS), "overwriteTargetFile": opt("bool"),
}
SMB_INPUT_FIELDS = {
    "inputStorageLocation": req("smb"), "inputImageFilename": req("str"),
    "inputImageFormat": opt("enum", DISK_FORMATS),
}
PREPARE_FIELDS = dict({k: opt("str") for k in PREPARE_OUTPUTS}, **{
    "provisioningType": req("enum", ("Mcs", "Pvs")), "xdReconfigure": opt("xd"),
    "overwriteTargetFile": opt("bool"), "domainUnjoin": opt("bool"), "md5Hash": opt("md5"),
    "installMisa": opt("bool"), "forceMisa": opt("bool"), "installMcsio": opt("bool"), "installPvs": opt("str"),
})

# The /reconfigure names the reference lists, with the values the VDA installer takes; other
# names pass through (the installer has more), but a name may appear only once.
XD_RECONFIGURE_VALUES = {
    "portnumber": r"^[0-9]{1,5}$",
    "enable_hdx_ports": r"^(?i:true|false)$",
    "controllers": r"\S",
}

JobType = namedtuple("JobType", ["route", "platforms", "fields", "selectors", "stages", "work_stage"])

JOB_TYPES = {
    "export": JobType(
        "images/$export", PLATFORMS, dict(hashDisk=opt("bool"), **SMB_OUTPUT_FIELDS), EXPORT_SOURCES,
        ("validating", "startingCompositingEngine", "exporting", "cleaningUp"), "exporting"),
    "prepare": JobType(
        "images/$prepare", PLATFORMS, PREPARE_FIELDS, PREPARE_TARGETS,
        ("validating", "startingCompositingEngine", "preparing", "cleaningUp"), "preparing"),
    "prepareAndPublish": JobType(
        "images/$prepareAndPublish", ("azure", "gcp"), dict(PREPARE_FIELDS, hashDisk=opt("bool"), **SMB_OUTPUT_FIELDS),
        PREPARE_TARGETS,
        ("validating", "startingCompositingEngine", "preparing", "publishing", "cleaningUp"), "publishing"),
    "convertToUefi": JobType(
        "images/$convertToUefi", ("vsphere", "xen", "azure", "gcp"),
        dict(SMB_INPUT_FIELDS, outputImageFilename=opt("str"), overwriteOutput=opt("bool"),
             pvsSslCaCertificate=opt("str")),
        None, ("validating", "startingCompositingEngine", "converting", "cleaningUp"), "converting"),
    "upgradePvs": JobType(
        "images/$upgradePvs", ("vsphere",),
        dict(SMB_INPUT_FIELDS, outputImageFilename=opt("str"), overwriteOutput=opt("bool"),
             outputSizeMb=opt("int"), installPvs=req("str")),
        None, ("validating", "startingCompositingEngine", "upgrading", "cleaningUp"), "upgrading"),
    "reverseImage": JobType(
        "images/$reverseImage", ("vsphere",),
        dict(SMB_INPUT_FIELDS, outputDiskName=opt("str")),
        None, ("validating", "startingCompositingEngine", "reversing", "cleaningUp"), "reversing"),
    "diagnostics": JobType(
        "images/$diagnostics", PLATFORMS,
        {"outputStorageLocation": req("smb"), "ceLogs": opt("bool"), "windowsEventLogs": opt("bool"),
         "ipsData": opt("bool")},
        None, ("validating", "collecting", "cleaningUp"), "collecting"),
}

# (field, value) -> (other field, required value): cross-field rules checked after the types.
# A value of PRESENT matches any value the field has.
PRESENT = "<present>"
REQUIRES = {
    ("installMisa", True): ("provisioningType", "Mcs"),
    ("forceMisa", True): ("provisioningType", "Mcs"),
    ("installMcsio", True): ("provisioningType", "Mcs"),
    ("installPvs", PRESENT): ("provisioningType", "Pvs"),
}
# Fields that exclude each other (both present is a 400 naming the first).
EXCLUSIVE = (
    ("outputDiskName", "outputSnapshotName"),
)
# A diagnostics job must collect something.
DIAGNOSTICS_COLLECT = ("ceLogs", "windowsEventLogs", "ipsData")

JOB_STATUS_RUNNING = "inProgress"
JOB_STATUS_COMPLETE = "complete"
JOB_STATUS_FAILED = "failed"
JOB_STATUS_CANCELLED = "cancelled"
TERMINAL_STATUSES = (JOB_STATUS_COMPLETE, JOB_STATUS_FAILED, JOB_STATUS_CANCELLED)

# Job parameters echo the body, with the value of any key containing one of these masked.
SECRET_KEY_MARKERS = ("password", "secret")
MASK = "********"

JOB_LIST_DEFAULT_LIMIT = 25
JOB_LIST_MAX_LIMIT = 100
RETENTION_SECONDS = 24 * 3600

MODULE_VERSIONS = {"Citrix.Workloads.Portability": "2.4.6", "Citrix.Image.Uploader": "2.2.3"}
