"""The Azure control plane of the lab (HTTPS, loopback): Entra tokens, ARM managed disks and the
managed-disk blob front over Azurite. docs/lab.md, "The Azure plane", lists the rules.

    python -m ips_lab.planes.azure_plane --state-dir DIR --config FILE.json

One server serves three kinds of path:
    /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/token   Entra (azure_entra.py)
    /subscriptions/...                                                             ARM (this file)
    /md-impexp/<grant>/abcd                                                        disk SAS (azure_blob.py)
Disks, grants and operations live in <state-dir>/azure.sqlite, so a restart loses nothing.

Disk creation takes `operation_seconds` (a runtime setting, `PUT /_lab/config`; default 0): with 0
the PUT answers 200 with the disk Succeeded at once; above 0 it answers 202 with the disk
`Updating`, `Azure-AsyncOperation`, `Location` and `Retry-After`, the operation reports InProgress
until that time has passed, then Succeeded, as real ARM does (azure-core's ARMPolling waits).
"""

import math
import re
import secrets
import threading
import time
import uuid
from pathlib import Path

from ..common.config import is_number
from ..common.server import serve_main
from . import caps, vhd_footer
from .azure_blob import ACCOUNT, Azurite, BlobFront, blob_url, disk_account, make_sas_url, storage_error
from .azure_entra import Entra, entra_error
from .azure_rbac import Rbac, valid_removed
from .base import Answer, DocStore, HttpError, Running, iso
from .faults import PlaneLab

MIB = 1024 * 1024
GIB = 1024 * MIB
UPLOAD_MIN = 20 * MIB + 512
UPLOAD_MAX = 32767 * GIB + 512  # Azure's largest upload disk: 32,767 GiB and the footer (seen: "must be between ... inclusive")
# The first disks api-version with createOption Upload / uploadSizeBytes.
OLDEST_API_VERSION = "2019-03-01"
API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
SKUS = {"Standard_LRS": "Standard", "Premium_LRS": "Premium", "StandardSSD_LRS": "Standard", "UltraSSD_LRS": "Ultra",
        "Premium_ZRS": "Premium", "StandardSSD_ZRS": "Standard", "PremiumV2_LRS": "Premium"}
CREATE_OPTIONS = ("Empty", "Attach", "FromImage", "Import", "Copy", "Restore", "Upload", "CopyStart", "ImportSecure",
                  "UploadPreparedSecure", "CopyFromSanSnapshot")
LAB_CREATE_OPTIONS = ("Upload", "Empty", "Copy")
LOCATIONS = ("eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus", "southcentralus", "westcentralus",
             "canadacentral", "canadaeast", "brazilsouth", "northeurope", "westeurope", "uksouth", "ukwest", "francecentral",
             "germanywestcentral", "norwayeast", "swedencentral", "switzerlandnorth", "polandcentral", "italynorth",
             "spaincentral", "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "australiaeast",
             "australiasoutheast", "centralindia", "southindia", "westindia", "uaenorth", "southafricanorth", "qatarcentral",
             "israelcentral", "mexicocentral", "newzealandnorth")
DISK_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
UPLOAD_STATES = ("ReadyToUpload", "ActiveUpload")
CREATION_FIELDS = ("createOption", "uploadSizeBytes", "logicalSectorSize", "sourceResourceId", "sourceUniqueId")
COMPUTE = "microsoft.compute"
AUTHORIZATION = "microsoft.authorization"
# Injected faults without a raw body answer as the service would: (storage code, message), (ARM code, message).
STORAGE_FAULTS = {
    500: ("OperationTimedOut", "Operation could not be completed within the specified time."),
    503: ("ServerBusy", "The server is currently unable to receive requests. Please retry your request."),
    429: ("ServerBusy", "Ingress is over the account limit."),
}
ARM_FAULTS = {
    429: ("TooManyRequests", "The request is being throttled as the limit has been reached for operation type - Write_30Min."),
    500: ("InternalServerError", "An unexpected error occured while processing the request."),
    503: ("ServerBusy", "The server is currently busy; retry the request after the time in Retry-After."),
}


# The real hosts of ARM and Entra the plane answers as (through the lab's real-host proxy, lab/ips_lab/realhosts).
ARM_HOSTS = ("management.azure.com", "login.microsoftonline.com")


def host_name(header):
    """The host of a Host header, lower case, without its port ('' for none or an IPv6 literal)."""
    header = (header or "").strip().lower()
    if not header or header.startswith("["):
        return ""
    return header.split(":", 1)[0]


def arm_error(status, code, message, target=None, headers=None):
    error = {"code": code, "message": message}
    if target:
        error["target"] = target
    return HttpError(status, {"error": error}, headers)


class AzurePlane(object):
    """Everything behind the server: handle(request) -> Answer."""

    def __init__(self, state_dir, config):
        self.state_dir = Path(state_dir)
        self.config = config
        self.store = DocStore(self.state_dir / "azure.sqlite")
        self.url = None
        # the base URL the current request came to: the lab's own, or a real host name through the real-host proxy
        self._seen = threading.local()
        self.entra = Entra(config, self.public_url)
        self.subscription = config["subscription_id"]
        self.resource_groups = dict((rg.lower(), rg) for rg in config["resource_groups"])
        self.location = config["location"]
        self.sas_key = config["sas_key"].encode("utf-8")
        az = config["azurite"]
        self.azurite = Azurite(az["blob_url"], az["account"], az["key"])
        self.blob = BlobFront(self, self.azurite, self.sas_key)
        self.retry_after_ms = int(config.get("retry_after_ms", 100))
        self.lab = PlaneLab(self.state_dir, config.get("admin_token"), settings={
            "operation_seconds": (config.get("operation_seconds", 0), lambda v: is_number(v) and 0 <= v <= 3600,
                                  "a number of seconds from 0 to 3600"),
            "rbac_removed_actions": ([], valid_removed, "a list of action names (Provider/resource/operation)"),
            "disk_upload_cap": (caps.OFF, caps.valid_cap, caps.CAP_WANTS + " (bytes per second per disk)")})
        self.buckets = caps.Buckets()
        self.rbac = Rbac(self.subscription, config["resource_groups"], config["client_id"],
                         lambda: self.lab.setting("rbac_removed_actions"))

    def bound(self, url):
        self.url = url

    def cap_wait(self, key, disk, nbytes):
        """0, or the seconds a Put Page of `nbytes` to this disk must wait under the `disk_upload_cap` setting ("real":
        the disk's Standard HDD tier by its size, caps.azure_tier; a number: that many bytes per second per disk)."""
        setting = self.lab.setting("disk_upload_cap")
        if not setting or not nbytes:
            return 0.0
        rate = caps.rate_of(setting, caps.azure_tier(disk["properties"]["creationData"]["uploadSizeBytes"])[1])
        return self.buckets.take(key, rate, nbytes)

    def public_url(self):
        """https://management.azure.com (or login.microsoftonline.com) for a request that came to that host through the
        lab's real-host proxy, else the plane's own URL: the links it answers point where the client came from."""
        return getattr(self._seen, "url", None) or self.url

    def real_hosts(self):
        """True while serving a request that came through the real-host proxy (links then carry real host names)."""
        return getattr(self._seen, "url", None) is not None

    def close(self):
        self.lab.close()
        self.store.close()

    def fault_error(self, status, request):
        """The error an injected `status` fault answers with: Azure Storage's XML on the disk SAS, ARM's
        JSON under /subscriptions, Entra's JSON elsewhere."""
        parts = [p for p in request.path.split("/") if p]
        if parts and parts[0] == ACCOUNT:
            code, message = STORAGE_FAULTS.get(status, ("InternalError" if status >= 500 else "InvalidInput",
                                                        "Injected fault (HTTP %d)." % status))
            return storage_error(status, code, message)
        if parts and parts[0].lower() == "subscriptions":
            code, message = ARM_FAULTS.get(status, ("InternalServerError" if status >= 500 else "BadRequest",
                                                    "Injected fault (HTTP %d)." % status))
            return arm_error(status, code, message, headers={"x-ms-request-id": str(uuid.uuid4()),
                                                             "x-ms-correlation-request-id": str(uuid.uuid4())})
        if status >= 500 or status == 429:
            return entra_error(status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
        return entra_error(status, "invalid_request", 900144, "Injected fault (HTTP %d)." % status)

    # --- dispatch -----------------------------------------------------------------------------

    @staticmethod
    def normalise(request):
        """A disk SAS on its real host (md-impexp-....z1.blob.storage.azure.net/<container>/abcd, the host being the
        account) gets the path it has on the plane's own URL (/md-impexp/<container>/abcd), before fault rules and the
        request record see it: one rule serves both ways in."""
        if disk_account(host_name(request.headers.get("Host"))):
            request.path = "/%s%s" % (ACCOUNT, request.path)
            request.raw_path = "/%s%s" % (ACCOUNT, request.raw_path)

    def handle(self, request):
        parts = [p for p in request.path.split("/") if p]
        host = host_name(request.headers.get("Host"))
        self._seen.url = "https://%s" % host if host in ARM_HOSTS else None
        if disk_account(host):
            self._seen.url = "https://management.azure.com"
            return self.blob.handle(request, parts, account_host=host)
        if not parts:
            return Answer(200, {"service": "ips-lab azure plane"})
        if parts[0] == ACCOUNT:
            return self.blob.handle(request, parts)
        if parts[0].lower() == "subscriptions":
            try:
                return self.arm(request, parts)
            except HttpError as exc:
                exc.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
                exc.headers.setdefault("x-ms-correlation-request-id", str(uuid.uuid4()))
                raise
        if parts == ["msi", "token"]:
            return self.entra.managed_identity_token(request)
        answer = self.entra.handle(request, parts)
        if answer is None:
            raise HttpError(404, {"error": {"code": "NotFound", "message": "no such endpoint in the lab's Azure plane"}})
        return answer

    def arm(self, request, parts):
        claims, problem = self.entra.check(request.headers.get("Authorization"))
        if problem:
            raise arm_error(401, problem[0], problem[1], headers={
                "WWW-Authenticate": 'Bearer authorization_uri="%s/%s", error="invalid_token", error_description="%s"'
                                    % (self.public_url(), self.entra.tenant, problem[1].replace('"', "'"))})
        del claims
        self._api_version(request)
        low = [p.lower() for p in parts]
        if len(parts) < 2:
            raise arm_error(404, "NotFound", "No route for %s." % request.path)
        if parts[1] != self.subscription:
            raise arm_error(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % parts[1])
        if len(parts) == 2 and request.method == "GET":
            return Answer(200, {"id": "/subscriptions/" + self.subscription, "subscriptionId": self.subscription,
                                "displayName": "ips-lab", "state": "Enabled", "tenantId": self.entra.tenant})
        if low[2:5] == ["providers", COMPUTE, "locations"] and len(parts) == 8 and low[6] == "diskoperations":
            return self.operation(request, parts[7])
        if low[2:4] == ["providers", AUTHORIZATION] and len(parts) == 5:
            return self.authorization(request, "/subscriptions/" + self.subscription, low[4])
        if low[2:5] == ["providers", COMPUTE, "disks"] and len(parts) == 5 and request.method == "GET":
            return Answer(200, {"value": [self.public(d) for d in self.store.list("disk")]})
        if low[2] != "resourcegroups" or len(parts) < 4:
            raise arm_error(404, "NotFound", "The lab's Azure plane serves no %s." % request.path)
        rg = self.resource_groups.get(low[3])
        if rg is None:
            raise arm_error(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % parts[3])
        if len(parts) == 4:
            if request.method in ("GET", "HEAD"):
                return Answer(200 if request.method == "GET" else 204, {
                    "id": "/subscriptions/%s/resourceGroups/%s" % (self.subscription, rg), "name": rg, "type":
                    "Microsoft.Resources/resourceGroups", "location": self.location, "properties": {"provisioningState": "Succeeded"}})
            raise arm_error(405, "MethodNotAllowed", "The lab's resource groups are fixed by its config.")
        if low[4:6] == ["providers", AUTHORIZATION] and len(parts) == 7:
            return self.authorization(request, "/subscriptions/%s/resourceGroups/%s" % (self.subscription, rg), low[6])
        if low[4:7] != ["providers", COMPUTE, "disks"]:
            raise arm_error(404, "NotFound", "The lab's Azure plane serves only Microsoft.Compute/disks (got %s)." % request.path)
        if len(parts) == 7:
            if request.method != "GET":
                raise arm_error(405, "MethodNotAllowed", "%s is not allowed on a disk collection." % request.method)
            return Answer(200, {"value": [self.public(d) for d in self.store.list("disk", self._key(rg, ""))]})
        name = parts[7]
        if len(parts) == 8:
            handler = {"PUT": self.put_disk, "GET": self.get_disk, "DELETE": self.delete_disk, "PATCH": self.patch_disk}.get(request.method)
            if handler is None:
                raise arm_error(405, "MethodNotAllowed", "%s is not allowed on a disk." % request.method)
            return handler(request, rg, name)
        if len(parts) == 9 and request.method == "POST" and low[8] == "begingetaccess":
            return self.grant_access(request, rg, name)
        if len(parts) == 9 and request.method == "POST" and low[8] == "endgetaccess":
            return self.revoke_access(request, rg, name)
        raise arm_error(404, "NotFound", "No route for %s %s." % (request.method, request.path))

    def authorization(self, request, scope, what):
        """Microsoft.Authorization reads at a scope (azure_rbac.py): permissions, roleAssignments, roleDefinitions."""
        if request.method != "GET":
            raise arm_error(405, "MethodNotAllowed", "The lab's Azure plane serves Microsoft.Authorization reads only (GET).")
        if what == "permissions":
            return Answer(200, self.rbac.permissions(scope))
        if what == "roleassignments":
            return Answer(200, self.rbac.role_assignments(scope))
        if what == "roledefinitions":
            return Answer(200, self.rbac.role_definitions())
        raise arm_error(404, "NotFound", "The lab serves Microsoft.Authorization permissions, roleAssignments and roleDefinitions only.")

    @staticmethod
    def _api_version(request):
        version = request.params.get("api-version")
        if not version:
            raise arm_error(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all "
                            "requests.")
        if not API_VERSION_RE.match(version) or version[:10] < OLDEST_API_VERSION:
            raise arm_error(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The lab accepts api-versions from %s "
                            "on (the first with createOption Upload)." % (version, OLDEST_API_VERSION))
        return version

    # --- disks --------------------------------------------------------------------------------

    def _key(self, rg, name):
        return "%s/%s/%s" % (self.subscription.lower(), rg.lower(), name.lower())

    def disk_id(self, rg, name):
        return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (self.subscription, rg, name)

    @staticmethod
    def creating(disk):
        """True while the disk's create operation runs (operation_seconds)."""
        ready = disk["_lab"].get("ready_at")
        return bool(ready) and time.time() < ready

    @staticmethod
    def public(disk):
        out = dict((k, v) for k, v in disk.items() if not k.startswith("_"))
        if AzurePlane.creating(disk):
            out["properties"] = dict(out["properties"], provisioningState="Updating")
        return out

    def _refuse_while_creating(self, disk, name, what):
        if self.creating(disk):
            raise arm_error(409, "OperationNotAllowed", "Disk '%s' is still being created (provisioningState Updating); %s once the "
                            "create operation has finished." % (name, what))

    def _load(self, rg, name):
        disk = self.store.get("disk", self._key(rg, name))
        if disk is None:
            raise arm_error(404, "ResourceNotFound", "The Resource 'Microsoft.Compute/disks/%s' under resource group '%s' was not found. "
                            "For more details please go to https://aka.ms/ARMResourceNotFoundFix" % (name, rg))
        return disk

    def get_disk(self, request, rg, name):
        del request
        return Answer(200, self.public(self._load(rg, name)))

    def _validate(self, body, name):
        if not isinstance(body, dict):
            raise arm_error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        if not DISK_NAME_RE.match(name):
            raise arm_error(400, "InvalidResourceName", "The resource name '%s' is invalid. A disk name has 1-80 characters: letters, "
                            "digits, '_', '.', '-'; it starts with a letter or digit and ends with a letter, digit or '_'." % name)
        location = body.get("location")
        if not location:
            raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
        norm_location = str(location).replace(" ", "").lower()
        if norm_location not in LOCATIONS:
            raise arm_error(400, "LocationNotAvailableForResourceType", "The provided location '%s' is not available for resource type "
                            "'Microsoft.Compute/disks'. List of available regions for the resource type is '%s'."
                            % (location, ",".join(LOCATIONS)))
        sku = (body.get("sku") or {}).get("name") or "Standard_LRS"
        if sku not in SKUS:
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'sku.name' is not allowed. Allowed values are %s."
                            % (sku, ", ".join(SKUS)), "sku.name")
        props = body.get("properties")
        if not isinstance(props, dict):
            raise arm_error(400, "InvalidParameter", "Required parameter 'properties' is missing (null).", "properties")
        creation = props.get("creationData")
        if not isinstance(creation, dict) or not creation.get("createOption"):
            raise arm_error(400, "InvalidParameter", "Required parameter 'creationData.createOption' is missing (null).",
                            "creationData.createOption")
        option = creation["createOption"]
        if option not in CREATE_OPTIONS:
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'creationData.createOption' is not valid." % option,
                            "creationData.createOption")
        if option not in LAB_CREATE_OPTIONS:
            raise arm_error(400, "InvalidParameter", "createOption '%s' is not served by the lab (only %s)." % (option,
                            " and ".join(LAB_CREATE_OPTIONS)), "creationData.createOption")
        if option == "Upload":
            size = creation.get("uploadSizeBytes")
            if size is None:
                raise arm_error(400, "InvalidParameter", "Required parameter 'uploadSizeBytes' is missing (null).", "uploadSizeBytes")
            if not isinstance(size, int) or isinstance(size, bool) or not UPLOAD_MIN <= size <= UPLOAD_MAX:
                raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'uploadSizeBytes' is out of range. The value must be "
                                "between '%d' and '%d', inclusive." % (size, UPLOAD_MIN, UPLOAD_MAX), "uploadSizeBytes")
            if (size - 512) % MIB:
                raise arm_error(400, "InvalidParameter", "The value '%d' of parameter 'uploadSizeBytes' is not valid: it must be a whole "
                                "number of MiB plus 512 bytes for the VHD footer (the next valid values are %d and %d)."
                                % (size, (size - 512) // MIB * MIB + 512, ((size - 512) // MIB + 1) * MIB + 512), "uploadSizeBytes")
            if props.get("diskSizeGB") is not None:
                raise arm_error(400, "InvalidParameter", "Parameter 'diskSizeGB' is not allowed with createOption Upload; the size comes "
                                "from uploadSizeBytes.", "diskSizeGB")
        elif option == "Copy":
            source = creation.get("sourceResourceId")
            if not isinstance(source, str) or not source:
                raise arm_error(400, "InvalidParameter", "Required parameter 'creationData.sourceResourceId' is missing (null).",
                                "creationData.sourceResourceId")
            if props.get("diskSizeGB") is not None:
                raise arm_error(400, "InvalidParameter", "The lab copies a disk at its own size; leave out 'diskSizeGB'.", "diskSizeGB")
        else:
            gb = props.get("diskSizeGB")
            if not isinstance(gb, int) or isinstance(gb, bool) or not 1 <= gb <= 32767:
                raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'diskSizeGB' is out of range. The value must be "
                                "between '1' and '32767', inclusive." % gb, "diskSizeGB")
        gen = props.get("hyperVGeneration")
        if gen is not None and gen not in ("V1", "V2"):
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'hyperVGeneration' is not valid. Allowed values are "
                            "V1, V2." % gen, "hyperVGeneration")
        os_type = props.get("osType")
        if os_type is not None and os_type not in ("Windows", "Linux"):
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'osType' is not valid. Allowed values are Windows, "
                            "Linux." % os_type, "osType")
        zones = body.get("zones")
        if zones is not None:
            if not isinstance(zones, list) or len(zones) > 1 or any(z not in ("1", "2", "3") for z in zones):
                raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'zones' is not valid: give at most one of '1', '2', "
                                "'3'." % (zones,), "zones")
            if zones and sku.endswith("_ZRS"):
                raise arm_error(400, "InvalidParameter", "Disks with SKU '%s' are zone-redundant and cannot be created in a zone." % sku,
                                "zones")
        tags = body.get("tags")
        if tags is not None:
            if not isinstance(tags, dict) or len(tags) > 50 or any(not isinstance(v, str) for v in tags.values()):
                raise arm_error(400, "InvalidTagNameCharacters" if isinstance(tags, dict) else "InvalidRequestContent",
                                "Tags must be an object of at most 50 string values.")
            for key, value in tags.items():
                if len(key) > 512 or len(value) > 256 or any(c in key for c in "<>%&\\?/"):
                    raise arm_error(400, "InvalidTagNameCharacters", "The tag name '%s' has characters that are not allowed or is too "
                                    "long." % key)
        return norm_location, sku, option

    def put_disk(self, request, rg, name):
        body = request.json()
        location, sku, option = self._validate(body, name)
        props = body["properties"]
        with self.store.lock:
            existing = self.store.get("disk", self._key(rg, name))
            if existing is not None:
                return self._update(existing, body, rg, name)
            now = time.time()
            seconds = float(self.lab.setting("operation_seconds"))
            unique = str(uuid.uuid4())
            source = None
            if option == "Upload":
                size = props["creationData"]["uploadSizeBytes"]
                state = "ReadyToUpload"
                disk_bytes = size - 512
            elif option == "Copy":
                source = self._copy_source(props["creationData"]["sourceResourceId"])
                disk_bytes = source["properties"]["diskSizeBytes"]
                size = source["properties"]["creationData"].get("uploadSizeBytes") or disk_bytes
                state = "Unattached"
            else:
                disk_bytes = props["diskSizeGB"] * GIB
                size = disk_bytes
                state = "Unattached"
            blob = "%s.vhd" % unique
            if source is not None:
                self.azurite.copy_blob(source["_lab"]["blob"], blob)
                props = dict(props, creationData=dict(props["creationData"], sourceUniqueId=source["properties"]["uniqueId"],
                                                      uploadSizeBytes=source["properties"]["creationData"].get("uploadSizeBytes")))
                for key in ("osType", "hyperVGeneration"):
                    if props.get(key) is None and source["properties"].get(key) is not None:
                        props[key] = source["properties"][key]
            else:
                self.azurite.create_page_blob(blob, size)
            disk = {
                "name": name,
                "id": self.disk_id(rg, name),
                "type": "Microsoft.Compute/disks",
                "location": location,
                "tags": body.get("tags") or {},
                "sku": {"name": sku, "tier": SKUS[sku]},
                "properties": {
                    "creationData": dict((k, v) for k, v in props["creationData"].items() if k in CREATION_FIELDS and v is not None),
                    "diskSizeGB": int(math.ceil(disk_bytes / float(GIB))),
                    "diskSizeBytes": disk_bytes,
                    "uniqueId": unique,
                    "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                    "networkAccessPolicy": props.get("networkAccessPolicy") or "AllowAll",
                    "publicNetworkAccess": props.get("publicNetworkAccess") or "Enabled",
                    "timeCreated": iso(now),
                    "provisioningState": "Succeeded",
                    "diskState": state,
                },
                "_lab": {"blob": blob, "grant": None, "written": source is not None},
            }
            if seconds > 0:
                disk["_lab"]["ready_at"] = now + seconds
                disk["_lab"]["create_op"] = self._new_op(None, ready_at=now + seconds, disk_key=self._key(rg, name))
            for key in ("osType", "hyperVGeneration", "supportedCapabilities", "dataAccessAuthMode", "optimizedForFrequentAttach"):
                if props.get(key) is not None:
                    disk["properties"][key] = props[key]
            if body.get("zones"):
                disk["zones"] = list(body["zones"])
            self.store.put("disk", self._key(rg, name), disk)
        if seconds > 0:
            return self._creating_answer(disk)
        return Answer(200, self.public(disk))

    def _creating_answer(self, disk):
        """Real ARM's answer to a disk PUT whose create operation runs: 202, the disk Updating, the operation's URLs."""
        op_id = disk["_lab"]["create_op"]
        return Answer(202, self.public(disk), {"Location": self._op_url(op_id, True), "Azure-AsyncOperation": self._op_url(op_id, False),
                                               "Retry-After": "1", "x-ms-request-id": op_id,
                                               "x-ms-correlation-request-id": str(uuid.uuid4())})

    def _copy_source(self, resource_id):
        """The disk a createOption Copy names: in this subscription, not in an upload or under a SAS."""
        match = re.match(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Compute/disks/([^/]+)$", resource_id,
                         re.IGNORECASE)
        if not match:
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'creationData.sourceResourceId' is not a managed disk id "
                            "(/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name})." % resource_id,
                            "creationData.sourceResourceId")
        sub, rg, name = match.groups()
        source = self.store.get("disk", "%s/%s/%s" % (sub.lower(), rg.lower(), name.lower()))
        if source is None:
            raise arm_error(404, "NotFound", "Resource '%s' was not found (creationData.sourceResourceId)." % resource_id)
        self._refuse_while_creating(source, name, "it can be copied")
        state = source["properties"]["diskState"]
        if state in UPLOAD_STATES:
            raise arm_error(409, "OperationNotAllowed", "Disk '%s' is in state '%s'; it can be copied once the upload is finished "
                            "(endGetAccess)." % (name, state))
        return source

    def _update(self, disk, body, rg, name):
        state = disk["properties"]["diskState"]
        if state in UPLOAD_STATES or state == "ActiveSAS":
            raise arm_error(409, "OperationNotAllowed", "Disk '%s' is in state '%s'; it cannot be updated until the upload is finished and "
                            "access is revoked." % (name, state))
        old = disk["properties"]["creationData"]
        new = body["properties"]["creationData"]
        for field in ("createOption", "uploadSizeBytes"):
            if new.get(field) != old.get(field):
                raise arm_error(409, "PropertyChangeNotAllowed", "Changing property 'creationData.%s' is not allowed." % field,
                                "creationData.%s" % field)
        if body.get("location", "").replace(" ", "").lower() != disk["location"]:
            raise arm_error(409, "InvalidResourceLocation", "The resource 'disks/%s' already exists in location '%s' in resource group "
                            "'%s'. A resource with the same name cannot be created in location '%s'."
                            % (name, disk["location"], rg, body.get("location")))
        if body.get("tags") is not None:
            disk["tags"] = body["tags"]
        for key in ("osType", "hyperVGeneration", "networkAccessPolicy", "publicNetworkAccess"):
            if body["properties"].get(key) is not None:
                disk["properties"][key] = body["properties"][key]
        self.store.put("disk", self._key(rg, name), disk)
        if self.creating(disk):
            return self._creating_answer(disk)  # a repeated PUT (a client's retry) follows the running create
        return Answer(200, self.public(disk))

    def patch_disk(self, request, rg, name):
        body = request.json()
        with self.store.lock:
            disk = self._load(rg, name)
            state = disk["properties"]["diskState"]
            if state in UPLOAD_STATES or state == "ActiveSAS":
                raise arm_error(409, "OperationNotAllowed", "Disk '%s' is in state '%s'; it cannot be updated until access is revoked."
                                % (name, state))
            if body.get("tags") is not None:
                disk["tags"] = body["tags"]
            self.store.put("disk", self._key(rg, name), disk)
        return Answer(200, self.public(disk))

    def delete_disk(self, request, rg, name):
        del request
        with self.store.lock:
            disk = self.store.get("disk", self._key(rg, name))
            if disk is None:
                return Answer(204)
            self._refuse_while_creating(disk, name, "delete it")
            state = disk["properties"]["diskState"]
            if state in ("ActiveUpload", "ActiveSAS"):
                raise arm_error(409, "OperationNotAllowed", "Disk '%s' is in state '%s'; revoke access (endGetAccess) before deleting it."
                                % (name, state))
            self._drop_grant(disk)
            self.store.delete("disk", self._key(rg, name))
        self.azurite.delete_blob(disk["_lab"]["blob"])
        return Answer(200)

    # --- access -------------------------------------------------------------------------------

    def _drop_grant(self, disk):
        grant = disk["_lab"].get("grant")
        if grant:
            self.store.delete("grant", grant)
        disk["_lab"]["grant"] = None

    def grant_for(self, container):
        """(grant, disk) of a live grant, else (None, None); used by the blob front."""
        grant = self.store.get("grant", container)
        if grant is None:
            return None, None
        disk = self.store.get("disk", grant["disk"])
        if disk is None or disk["_lab"].get("grant") != container:
            return None, None
        return grant, disk

    def note_write(self, grant):
        with self.store.lock:
            disk = self.store.get("disk", grant["disk"])
            if disk and not disk["_lab"]["written"]:
                disk["_lab"]["written"] = True
                self.store.put("disk", grant["disk"], disk)

    def grant_access(self, request, rg, name):
        body = request.json()
        access = body.get("access")
        duration = body.get("durationInSeconds")
        if access not in ("None", "Read", "Write"):
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'access' is not valid. Allowed values are None, Read, "
                            "Write." % access, "access")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 1:
            raise arm_error(400, "InvalidParameter", "Required parameter 'durationInSeconds' is missing or not a positive integer.",
                            "durationInSeconds")
        if body.get("fileFormat") not in (None, "VHD", "VHDX"):
            raise arm_error(400, "InvalidParameter", "The value '%s' of parameter 'fileFormat' is not valid." % body.get("fileFormat"),
                            "fileFormat")
        with self.store.lock:
            disk = self._load(rg, name)
            self._refuse_while_creating(disk, name, "grant access")
            state = disk["properties"]["diskState"]
            if access == "Write":
                if disk["properties"]["creationData"]["createOption"] != "Upload" or state not in UPLOAD_STATES:
                    raise arm_error(409, "OperationNotAllowed", "Write access can only be granted to a disk created with createOption "
                                    "Upload that is in state ReadyToUpload or ActiveUpload; disk '%s' is %s." % (name, state))
                new_state = "ActiveUpload"
            elif access == "Read":
                if state in UPLOAD_STATES:
                    raise arm_error(409, "OperationNotAllowed", "Disk '%s' is in state '%s'; Read access is possible once the upload is "
                                    "finished (endGetAccess)." % (name, state))
                new_state = "ActiveSAS"
            else:
                return self._accepted(self._new_op(None))
            self._drop_grant(disk)
            container = "md-" + secrets.token_hex(6)
            expiry = time.time() + duration
            policy = str(uuid.uuid4())  # the stored access policy the SAS names (si): permission and expiry stay here
            self.store.put("grant", container, {"container": container, "disk": self._key(rg, name), "access": access,
                                                "blob": disk["_lab"]["blob"], "expiry": expiry, "policy": policy})
            disk["_lab"]["grant"] = container
            disk["properties"]["diskState"] = new_state
            self.store.put("disk", self._key(rg, name), disk)
            sas = make_sas_url(self.url, self.sas_key, container, policy, real_host=self.real_hosts())
        return self._accepted(self._new_op({"accessSAS": sas}))

    def revoke_access(self, request, rg, name):
        del request
        with self.store.lock:
            disk = self._load(rg, name)
            state = disk["properties"]["diskState"]
            if state == "ActiveUpload":
                size = disk["properties"]["creationData"]["uploadSizeBytes"]
                footer = self.azurite.read_range(disk["_lab"]["blob"], size - vhd_footer.FOOTER_SIZE, vhd_footer.FOOTER_SIZE)
                problem = vhd_footer.problem(footer, "abcd", blob_url(self.url, disk["_lab"]["grant"], self.real_hosts()), size)
                if problem:
                    # Real Azure: endGetAccess fails with InvalidVhd and the disk stays in ActiveUpload
                    # (the write SAS keeps working, so the footer can be rewritten and revoke retried).
                    raise arm_error(400, "InvalidVhd", problem)
                disk["properties"]["diskState"] = "Unattached"
            elif state == "ActiveSAS":
                disk["properties"]["diskState"] = "Unattached"
            self._drop_grant(disk)
            self.store.put("disk", self._key(rg, name), disk)
        return self._accepted(self._new_op(None))

    # --- operations ---------------------------------------------------------------------------

    def _new_op(self, output, ready_at=None, disk_key=None):
        """An operation, Succeeded at once, or InProgress until `ready_at` (its output then the disk `disk_key`)."""
        op_id = str(uuid.uuid4())
        now = time.time()
        op = {"name": op_id, "status": "Succeeded", "startTime": iso(now), "endTime": iso(ready_at or now), "output": output}
        if ready_at:
            op.update(ready_at=ready_at, disk=disk_key)
        self.store.put("op", op_id, op)
        return op_id

    def _op_url(self, op_id, monitor):
        return "%s/subscriptions/%s/providers/Microsoft.Compute/locations/%s/DiskOperations/%s?%sapi-version=2026-03-02" % (
            self.public_url(), self.subscription, self.location, op_id, "monitor=true&" if monitor else "")

    def _accepted(self, op_id):
        return Answer(202, None, {"Location": self._op_url(op_id, True), "Azure-AsyncOperation": self._op_url(op_id, False),
                                  "Retry-After-Ms": str(self.retry_after_ms), "x-ms-request-id": op_id,
                                  "x-ms-correlation-request-id": str(uuid.uuid4())})

    def operation(self, request, op_id):
        op = self.store.get("op", op_id)
        if op is None:
            raise arm_error(404, "ResourceNotFound", "Operation '%s' was not found." % op_id)
        if op.get("ready_at") and time.time() < op["ready_at"]:
            if request.params.get("monitor") == "true":
                return Answer(202, None, {"Location": self._op_url(op_id, True), "Retry-After": "1"})
            return Answer(200, {"name": op["name"], "status": "InProgress", "startTime": op["startTime"]}, {"Retry-After": "1"})
        if op.get("disk"):
            disk = self.store.get("disk", op["disk"])
            op["output"] = self.public(disk) if disk is not None else None
        if request.params.get("monitor") == "true":
            return Answer(200, op["output"]) if op["output"] else Answer(200)
        body = {"name": op["name"], "status": op["status"], "startTime": op["startTime"], "endTime": op["endTime"]}
        if op["output"]:
            body["properties"] = {"output": op["output"]}
        return Answer(200, body)


def start(state_dir, config):
    """Serve the plane in a thread (port 0 picks one); returns the Running server."""
    from ..common.tls import ensure_ca

    _ca, cert, key = ensure_ca(state_dir)
    plane = AzurePlane(state_dir, config)
    return Running(plane, config.get("host", "127.0.0.1"), config.get("port", 0), cert, key)


def main(argv=None):
    return serve_main("python -m ips_lab.planes.azure_plane", start, argv)


if __name__ == "__main__":
    raise SystemExit(main())
