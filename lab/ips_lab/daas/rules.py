"""The DaaS stand-in's own copy of the Citrix DaaS REST rules (never imported from the collection).

Every route and JSON name here is what the stand-in expects; the flag beside each says how sure the
project is of the real service's spelling (seen in the public generated client / terraform provider,
or inferred). A wrong name in the collection then fails against the lab instead of passing both.
"""

BASE = "/cvad/manage"                                   # seen: api.cloud.com/cvad/manage
# On-premises Orchestration API on a Delivery Controller (seen: the generated client's on-prem set-up): a token from
# POST <base>/tokens with HTTP Basic (a Citrix admin), GET <base>/me, then <base>/{customer}/Sites/{site} and every
# resource route under <base>/{customer}/{site}/.
ONPREM_BASE = "/citrix/orchestration/api"               # seen
ONPREM_CUSTOMER = "CitrixOnPremises"                    # seen: the provider's default customer id on premises
ONPREM_TOKEN_FIELDS = ("Token", "Principal", "UserId", "CustomerId", "ExpiresAt")  # seen (TrustAuthResponse); ExpiresAt RFC3339
PRODUCT_VERSION = "7.45"                                # inferred: a current cloud site
ORCHESTRATION_API_VERSION = 125                         # seen name (with its typo) OrchestationApiVersion; value inferred

# JobStatus (seen, model_job_status.go)
RUNNING = ("NotStarted", "InProgress")
TERMINAL = ("Complete", "CompleteWithWarning", "Failed", "Canceled")
INJECTABLE_OUTCOMES = ("CompleteWithWarning", "Failed", "Canceled")

# JobType names (seen, model_job_type.go)
JOB_UPDATE_SCHEME = "UpdateMachineCatalogProvisioningScheme"
JOB_ROLLBACK_SCHEME = "RollbackMachineCatalogProvisioningScheme"
JOB_CREATE_CATALOG = "CreateMachineCatalog"
JOB_CREATE_DEFINITION = "CreateImageDefinition"
JOB_CREATE_VERSION = "CreateImageVersion"
JOB_SHARE_VERSION = "UpdateImageVersionResourcePools"
JOB_TYPES = (JOB_UPDATE_SCHEME, JOB_ROLLBACK_SCHEME, JOB_CREATE_CATALOG, JOB_CREATE_DEFINITION, JOB_CREATE_VERSION, JOB_SHARE_VERSION)
# Jobs that provision on a catalog: only one at a time per catalog (seen: "cannot run while other provisioning tasks run")
PROVISIONING_JOBS = (JOB_UPDATE_SCHEME, JOB_ROLLBACK_SCHEME)

# Bodies: the names the stand-in accepts (seen in the request models); anything else is refused by name.
UPDATE_SCHEME_FIELDS = {
    "MasterImagePath", "AssignImageVersionToProvisioningScheme", "MachineProfilePath", "StoreOldImage",
    "MinimumFunctionalLevel", "MasterImageNote", "CustomProperties", "CustomPropertiesInString", "RebootOptions",
    "MachineAccountCreationRules", "MachineAccountDeleteOption", "Metadata",
}
ASSIGN_VERSION_FIELDS = {"ImageDefinition", "ImageVersion", "ImageAssignmentNote"}
REBOOT_FIELDS = {"RebootDuration", "WarningDuration", "WarningTitle", "WarningMessage", "WarningRepeatInterval"}
FUNCTIONAL_LEVELS = ("L5", "L7", "L7_6", "L7_7", "L7_8", "L7_9", "L7_20", "L7_25", "L7_34", "LMIN", "LMAX")
CREATE_CATALOG_FIELDS = {
    "Name", "AdminFolder", "AllocationType", "Description", "HypervisorConnection", "MachineType", "MinimumFunctionalLevel",
    "PersistUserChanges", "ProvisioningType", "ProvisioningScheme", "Scopes", "Tenants", "SessionSupport", "Zone", "Metadata",
    "IsRemotePC", "IsPowerManaged",
}
CREATE_CATALOG_REQUIRED = ("Name", "AllocationType", "ProvisioningType", "SessionSupport", "ProvisioningScheme")
CREATE_SCHEME_FIELDS = {
    "ResourcePool", "MasterImagePath", "AssignImageVersionToProvisioningScheme", "MachineProfilePath", "MasterImageNote",
    "CpuCount", "MemoryMB", "NetworkMapping", "ServiceOfferingPath", "SecurityGroups", "CustomProperties", "IdentityType",
    "MachineAccountCreationRules", "AvailableMachineAccounts", "NumTotalMachines", "UseFullDiskCloneProvisioning",
    "UseWriteBackCache", "PrepareImage", "Metadata",
}
ALLOCATION_TYPES = ("Random", "Static")                 # seen
SESSION_SUPPORT = ("SingleSession", "MultiSession")     # seen
PERSIST_USER_CHANGES = ("Discard", "OnLocal", "OnPvd")  # seen
PROVISIONING_TYPES = ("MCS", "PVS", "Manual", "PVSStreaming")  # seen (PVSStreaming: terraform's name for PVS-streamed)
DEFINITION_FIELDS = {"Name", "Description", "OsType", "VDASessionSupport", "AssignedHypervisorConnection"}
DEFINITION_REQUIRED = ("Name", "OsType", "VDASessionSupport")
OS_TYPES = ("Windows", "Linux")
VERSION_FIELDS = {"Description", "MasterImagePath", "ResourcePool", "ImageScheme"}
VERSION_REQUIRED = ("MasterImagePath", "ResourcePool", "ImageScheme")
SHARE_FIELDS = {"ResourcePools", "ImageVersionResourcePools"}
VERSION_STATUS = ("Unknown", "InProgress", "Success", "Failed")  # seen

# Resource paths: the suffix of each kind of artifact in a hosting unit's inventory (seen in samples)
AZURE_FOLDER = "image.folder"
AZURE_GROUP_SUFFIX = ".resourcegroup"
AZURE_DISK_SUFFIX = ".manageddisk"
AWS_TEMPLATE_SUFFIX = ".template"                       # "<AMI name> (ami-...).template"
GCP_IMAGES_FOLDER = "images.folder"
GCP_IMAGE_SUFFIX = ".image"
GCP_TEMPLATES_FOLDER = "instanceTemplates.folder"       # inferred: the lab lists instance templates beside images
GCP_TEMPLATE_SUFFIX = ".template"
HOSTING_UNITS = "XDHyp:\\HostingUnits\\"

# The hosting connections the lab's site has, one per cloud plane (ConnectionType names seen)
CONNECTION_TYPES = {"azure": "AzureRM", "aws": "AWS", "gcp": "GoogleCloudPlatform"}
