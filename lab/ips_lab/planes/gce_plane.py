"""The GCE images/disks plane of the lab (plain HTTP, loopback): a compute/v1 subset over the GCS
emulator. docs/lab.md, "The GCE plane", lists the rules.

    python -m ips_lab.planes.gce_plane --state-dir DIR --config FILE.json

Serves, under /compute/v1/projects/{project}:
    global/images (POST insert, GET list), global/images/{name} (GET, DELETE),
    global/images/family/{family} (GET), global/operations/{op} (GET, POST .../wait),
    global/instanceTemplates (POST insert, GET list), global/instanceTemplates/{name} (GET, DELETE),
    zones/{zone}/disks (POST insert, GET list), zones/{zone}/disks/{name} (GET, DELETE),
    zones/{zone}/operations/{op} (GET, POST .../wait).
Every call needs `Authorization: Bearer <token>` (the config's token, IPS_LAB_GCP_TOKEN).

images.insert with rawDisk.source reads the object from the GCS emulator in a worker thread: a
gzip'd tar whose single member is `disk.raw` (regular, GNU/oldgnu or PAX sparse) of a whole
number of GiB. The operation stays RUNNING for at least `operation_seconds`, then ends DONE;
on a bad object it carries `error` and the image is removed. images.insert with sourceDisk copies a
READY disk of the project (the image of a prepared disk, what MCS on GCP uses); it is READY when its
operation ends. instanceTemplates.insert checks what GCE checks of a template's properties
(machineType, one boot disk from initializeParams.sourceImage or an existing disk as `source`, each READY);
the template exists when its operation ends. State: <state-dir>/gce.sqlite.
"""

import gzip
import hashlib
import re
import tarfile
import threading
import time
import zlib
from urllib.parse import quote, unquote, urlsplit

from ..common.server import serve_main
from .base import Answer, DocStore, HttpError, Running, forward, iso
from . import caps, gcp_iam
from .faults import PlaneLab
from .gcs_front import GcsFront

GIB = 1024 * 1024 * 1024
NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
NAME_REGEX_TEXT = "[a-z]([-a-z0-9]*[a-z0-9])?"
LABEL_KEY_RE = re.compile(r"^[\w\-]{1,63}$", re.UNICODE)
ZONES = tuple("%s-%s" % (region, z) for region, zones in (
    ("us-central1", "abcf"), ("us-east1", "bcd"), ("us-east4", "abc"), ("us-west1", "abc"), ("us-west2", "abc"),
    ("europe-west1", "bcd"), ("europe-west2", "abc"), ("europe-west3", "abc"), ("europe-west4", "abc"),
    ("europe-north1", "abc"), ("asia-east1", "abc"), ("asia-northeast1", "abc"), ("asia-southeast1", "abc"),
    ("australia-southeast1", "abc"), ("southamerica-east1", "abc"), ("northamerica-northeast1", "abc")) for z in zones)
REGIONS = tuple(sorted(set(z.rsplit("-", 1)[0] for z in ZONES)))
MULTI_REGIONS = ("us", "eu", "asia")
GUEST_OS_FEATURES = ("MULTI_IP_SUBNET", "SECURE_BOOT", "UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE", "WINDOWS", "GVNIC", "SEV_CAPABLE",
                     "SEV_SNP_CAPABLE", "SEV_LIVE_MIGRATABLE", "SEV_LIVE_MIGRATABLE_V2", "IDPF", "TDX_CAPABLE", "SUSPEND_RESUME_COMPATIBLE")
IMAGE_FIELDS = ("name", "description", "family", "labels", "guestOsFeatures", "storageLocations", "licenses", "rawDisk",
                "architecture", "diskSizeGb", "kind", "shieldedInstanceInitialState", "imageEncryptionKey", "licenseCodes",
                "sourceDisk", "forceCreate")
DISK_FIELDS = ("name", "description", "sourceImage", "sizeGb", "type", "labels", "kind", "guestOsFeatures", "licenses",
               "physicalBlockSizeBytes", "architecture")
DISK_TYPES = ("pd-standard", "pd-balanced", "pd-ssd", "pd-extreme", "hyperdisk-balanced", "hyperdisk-extreme", "hyperdisk-throughput")
RAW_MEMBER = "disk.raw"
# instanceTemplates (compute/v1 InstanceTemplate, InstanceProperties, AttachedDisk, AttachedDiskInitializeParams field names)
TEMPLATE_FIELDS = ("name", "description", "properties", "kind", "sourceInstance", "sourceInstanceParams")
PROPERTY_FIELDS = ("description", "tags", "resourceManagerTags", "machineType", "canIpForward", "networkInterfaces", "disks", "metadata",
                   "serviceAccounts", "scheduling", "labels", "guestAccelerators", "minCpuPlatform", "reservationAffinity",
                   "shieldedInstanceConfig", "resourcePolicies", "confidentialInstanceConfig", "privateIpv6GoogleAccessType",
                   "advancedMachineFeatures", "networkPerformanceConfig", "keyRevocationActionType")
ATTACHED_DISK_FIELDS = ("kind", "type", "mode", "source", "deviceName", "index", "boot", "initializeParams", "autoDelete", "licenses",
                        "interface", "guestOsFeatures", "diskEncryptionKey", "diskSizeGb", "architecture")
INITIALIZE_FIELDS = ("diskName", "sourceImage", "diskSizeGb", "diskType", "sourceImageEncryptionKey", "labels", "sourceSnapshot",
                     "description", "resourcePolicies", "onUpdateAction", "provisionedIops", "provisionedThroughput", "architecture")
NETWORK_INTERFACE_FIELDS = ("kind", "network", "subnetwork", "networkIP", "name", "accessConfigs", "aliasIpRanges", "stackType",
                            "nicType", "queueCount")
# a predefined machine type (family-shape-vCPUs, e.g. n2-standard-4, e2-medium) or custom-CPUS-MB; a template names it, not a URL
MACHINE_TYPE_RE = re.compile(r"^([a-z][a-z0-9]*-)?(custom-\d+-\d+(-ext)?|[a-z][a-z0-9]*-[a-z0-9]+(-\d+)?(-[a-z0-9]+)?)$")
COMPUTE_HOST = "compute.googleapis.com"
# Injected faults without a raw body: (reason, status, message) as Google's JSON errors carry them.
FAULTS = {429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED", "Rate Limit Exceeded"),
          500: ("backendError", "INTERNAL", "Internal error. Please try again."),
          502: ("backendError", "UNAVAILABLE", "Bad Gateway"),
          503: ("backendError", "UNAVAILABLE", "The service is currently unavailable."),
          504: ("backendError", "DEADLINE_EXCEEDED", "Deadline exceeded.")}


def gerror(status, reason, message, extra=None):
    statuses = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
                405: "METHOD_NOT_ALLOWED"}
    body = {"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}}
    if status in statuses:
        body["error"]["status"] = statuses[status]
    return HttpError(status, body, extra)


class ImageProblem(Exception):
    """A rawDisk source that cannot become an image: code and message for the operation error."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class _Hashing(object):
    """A read-only file object that counts and SHA-1s what passes through."""

    def __init__(self, raw):
        self.raw = raw
        self.sha1 = hashlib.sha1()
        self.count = 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.sha1.update(data)
        self.count += len(data)
        return data


def inspect_tar_gz(stream):
    """Read a whole rawDisk stream; returns (virtual size, compressed bytes, sha1 hex) or raises ImageProblem."""
    hashed = _Hashing(stream)
    gz = gzip.GzipFile(fileobj=hashed, mode="rb")
    try:
        archive = tarfile.open(fileobj=gz, mode="r|")
        members = []
        for member in archive:
            members.append(member)
            if len(members) > 1:
                break
        if not members:
            raise ImageProblem("INVALID_IMAGE_FILE", "The tar archive holds no member; it must hold exactly one file named disk.raw.")
        if len(members) > 1:
            raise ImageProblem("INVALID_IMAGE_FILE", "The tar archive holds more than one member (%s, %s, ...); it must hold exactly one "
                               "file named disk.raw." % (members[0].name, members[1].name))
        member = members[0]
        if member.name != RAW_MEMBER:
            raise ImageProblem("INVALID_IMAGE_FILE", "The tar archive's member is named '%s'; the raw disk must be named disk.raw (no "
                               "directory, no './')." % member.name)
        if not member.isfile():
            raise ImageProblem("INVALID_IMAGE_FILE", "disk.raw in the tar archive is not a regular or sparse file (type %r)." % member.type)
        size = member.size
        if size <= 0 or size % GIB:
            raise ImageProblem("INVALID_IMAGE_FILE", "disk.raw is %d bytes; a raw disk image must be a whole number of GiB (1 GiB = "
                               "1073741824 bytes), e.g. %d or %d." % (size, size // GIB * GIB, (size // GIB + 1) * GIB))
        while gz.read(1024 * 1024):  # the rest: tar padding, then the gzip trailer (CRC and length checked)
            pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ImageProblem("INVALID_IMAGE_FILE", "The rawDisk source is not a valid gzip'd tar archive: %s." % exc)
    while hashed.read(1024 * 1024):
        pass
    return size, hashed.count, hashed.sha1.hexdigest()


class GcePlane(object):
    def __init__(self, state_dir, config):
        self.store = DocStore("%s/gce.sqlite" % state_dir)
        self.project = config["project"]
        self.token = config["token"]
        self.gcs = config["gcs_url"]
        self.op_seconds = float(config.get("operation_seconds", 1.0))
        self.url = None
        # the base URL the current request came to: the plane's own, or https://compute.googleapis.com through the real-host proxy
        self._seen = threading.local()
        self.storage = GcsFront(self, self.gcs)
        self._ids = int(time.time() * 1000) % 10 ** 12
        self._id_lock = threading.Lock()
        self._stop = threading.Event()
        self.lab = PlaneLab(state_dir, config.get("admin_token"), settings={
            "iam_removed_permissions": ([], gcp_iam.valid_removed, "a list of permission names (service.resource.verb)"),
            "object_write_cap": (caps.OFF, caps.valid_cap, caps.CAP_WANTS + " (Cloud Storage writes per second per object name)")})

    def bound(self, url):
        self.url = url
        # Operations whose work was cut short by a restart run again (the work is deterministic).
        for op in self.store.list("op"):
            if op["status"] != "DONE" and op.get("work") and op.get("outcome") is None:
                self._spawn(op["name"])

    def close(self):
        self._stop.set()
        self.lab.close()
        self.store.close()

    @staticmethod
    def fault_error(status, request):
        """The error an injected `status` fault answers with (Google's JSON error)."""
        del request
        reason, state, message = FAULTS.get(status, ("backendError" if status >= 500 else "invalid", None, "Injected fault (HTTP %d)." % status))
        error = gerror(status, reason, message)
        if state:
            error.body["error"]["status"] = state
        return error

    def new_id(self):
        with self._id_lock:
            self._ids += 1
            return str(7 * 10 ** 18 + self._ids * 1000 + int(time.time()) % 1000)

    # --- dispatch -----------------------------------------------------------------------------

    def handle(self, request):
        host = (request.headers.get("Host") or "").split(":")[0].lower()
        self._seen.url = "https://%s" % host if host == COMPUTE_HOST else None
        raw = [unquote(p) for p in request.raw_path.split("/") if p]
        if raw[:1] in (["storage"], ["upload"], ["download"]):
            return self.storage.handle(request, raw)
        path = request.path.rstrip("/")
        if path in ("", "/"):
            return Answer(200, {"service": "ips-lab gce plane"})
        parts = [p for p in path.split("/") if p]
        if len(parts) == 3 and parts[0] in ("v1", "v3") and parts[1] == "projects" and parts[2].endswith(":testIamPermissions"):
            return self.test_iam_permissions(request, parts[2].rsplit(":", 1)[0])
        if parts[:2] != ["compute", "v1"]:
            raise gerror(404, "notFound", "The lab's GCE plane serves /compute/v1/ only.")
        self._auth(request)
        if len(parts) < 4 or parts[2] != "projects":
            raise gerror(404, "notFound", "No route for %s." % request.path)
        if parts[3] != self.project:
            raise gerror(404, "notFound", "The resource 'projects/%s' was not found" % parts[3])
        rest = parts[4:]
        method = request.method
        if rest[:1] == ["global"] and len(rest) >= 2:
            if rest[1] == "images":
                return self.images(request, rest[2:])
            if rest[1] == "instanceTemplates":
                return self.templates(request, rest[2:])
            if rest[1] == "operations" and len(rest) in (3, 4):
                return self.get_operation(request, "global", rest[2], wait=len(rest) == 4 and rest[3] == "wait" and method == "POST")
        if rest[:1] == ["zones"] and len(rest) >= 3:
            zone = rest[1]
            if zone not in ZONES:
                raise gerror(404, "notFound", "The resource 'projects/%s/zones/%s' was not found" % (self.project, zone))
            if rest[2] == "disks":
                return self.disks(request, zone, rest[3:])
            if rest[2] == "operations" and len(rest) in (4, 5):
                return self.get_operation(request, "zones/" + zone, rest[3], wait=len(rest) == 5 and rest[4] == "wait" and method == "POST")
        raise gerror(404, "notFound", "The lab's GCE plane has no %s %s." % (method, request.path))

    def check_token(self, request):
        """The OAuth bearer token of every call (the Cloud Storage front's too)."""
        self._auth(request)

    def test_iam_permissions(self, request, project):
        """Cloud Resource Manager's projects.testIamPermissions (gcp_iam.py)."""
        self._auth(request)
        if request.method != "POST":
            raise gerror(405, "methodNotAllowed", "testIamPermissions takes POST.")
        if project != self.project:
            # Google answers 403 for a project the caller cannot see, whether it exists or not.
            raise gerror(403, "forbidden", "The caller does not have permission")
        status, answer = gcp_iam.test_permissions(request.json(), self.lab.setting("iam_removed_permissions"))
        if status != 200:
            raise gerror(status, "badRequest", answer)
        return Answer(200, answer)

    def _auth(self, request):
        auth = request.headers.get("Authorization") or ""
        if not auth:
            raise gerror(401, "required", "Request is missing required authentication credential. Expected OAuth 2 access token, login "
                         "cookie or other valid authentication credential.", {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        scheme, token = (auth.split(" ", 1) + [""])[:2]
        if scheme.lower() != "bearer" or token.strip() != self.token:
            raise gerror(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                         "other valid authentication credential.", {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                                                    'error="invalid_token"'})

    def link(self, *pieces):
        return "%s/compute/v1/projects/%s/%s" % (getattr(self._seen, "url", None) or self.url, self.project, "/".join(pieces))

    # --- operations ---------------------------------------------------------------------------

    def _new_op(self, scope, kind, target_link, target_id, work=None):
        name = "operation-%d-%s" % (int(time.time() * 1000), hashlib.sha1(self.new_id().encode()).hexdigest()[:12])
        now = time.time()
        op = {"kind": "compute#operation", "id": self.new_id(), "name": name, "operationType": kind, "targetLink": target_link,
              "targetId": target_id, "status": "RUNNING", "user": "ips-lab@%s.iam.gserviceaccount.com" % self.project, "progress": 0,
              "insertTime": iso(now, digits=3), "startTime": iso(now, digits=3), "scope": scope, "created": now, "work": work,
              "outcome": None if work else {"ok": True}}
        if scope.startswith("zones/"):
            op["zone"] = self.link(scope)
        op["selfLink"] = self.link(scope, "operations", name)
        self.store.put("op", name, op)
        if work:
            self._spawn(name)
        return op

    def _spawn(self, name):
        threading.Thread(target=self._run_work, args=(name,), daemon=True, name="gce-" + name).start()

    def _run_work(self, name):
        try:
            op = self.store.get("op", name)
        except Exception:  # the store closed under a stopping plane
            return
        if op is None:
            return
        work = op["work"]
        try:
            if work["type"] == "image":
                outcome = self._check_raw_disk(work)
            else:
                outcome = {"ok": True}
        except Exception as exc:  # a lab bug must still end the operation
            outcome = {"ok": False, "code": "INTERNAL_ERROR", "message": "The lab failed: %s" % exc}
        with self.store.lock:
            if self._stop.is_set():
                return
            op = self.store.get("op", name)
            if op is not None:
                op["outcome"] = outcome
                self.store.put("op", name, op)

    def _check_raw_disk(self, work):
        bucket, obj = work["bucket"], work["object"]
        path = "/download/storage/v1/b/%s/o/%s?alt=media" % (quote(bucket, safe=""), quote(obj, safe=""))
        try:
            response = forward(self.gcs, "GET", path)
        except OSError as exc:
            return {"ok": False, "code": "INTERNAL_ERROR", "message": "The lab could not reach the GCS emulator: %s" % exc}
        try:
            if response.status == 404:
                return {"ok": False, "code": "RESOURCE_NOT_FOUND", "message": "The resource '%s' of field 'rawDisk.source' was not found: "
                        "no object %s in bucket %s." % (work["source"], obj, bucket)}
            if response.status != 200:
                return {"ok": False, "code": "INTERNAL_ERROR", "message": "The GCS emulator answered %d for %s." % (response.status, work["source"])}
            try:
                size, archive_size, sha1 = inspect_tar_gz(response)
            except ImageProblem as problem:
                return {"ok": False, "code": problem.code, "message": "Image '%s' from %s: %s" % (work["name"], work["source"], problem.message)}
        finally:
            response.connection_close()
        if work.get("sha1") and work["sha1"].lower() != sha1:
            return {"ok": False, "code": "INVALID_FIELD_VALUE", "message": "rawDisk.sha1Checksum %s does not match the object's SHA-1 %s."
                    % (work["sha1"], sha1)}
        return {"ok": True, "size": size, "archive_size": archive_size}

    def _advance(self, name):
        """Finish an operation whose time has come and whose work is done; returns it."""
        with self.store.lock:
            op = self.store.get("op", name)
            if op is None or op["status"] == "DONE":
                return op
            elapsed = time.time() - op["created"]
            if elapsed < self.op_seconds or op["outcome"] is None:
                op["progress"] = min(90, int(100 * elapsed / max(self.op_seconds, 0.001)))
                return op
            outcome = op["outcome"]
            op["status"], op["progress"], op["endTime"] = "DONE", 100, iso(time.time(), digits=3)
            if not outcome["ok"]:
                op["error"] = {"errors": [{"code": outcome["code"], "message": outcome["message"]}]}
                op["httpErrorStatusCode"] = 404 if outcome["code"] == "RESOURCE_NOT_FOUND" else 400
                op["httpErrorMessage"] = "NOT FOUND" if outcome["code"] == "RESOURCE_NOT_FOUND" else "BAD REQUEST"
            self._apply(op, outcome)
            self.store.put("op", name, op)
            return op

    def _apply(self, op, outcome):
        work = op.get("work") or {}
        kind = work.get("type")
        if kind == "image":
            image = self.store.get("image", work["name"])
            if image is None or image["id"] != op["targetId"]:
                return
            if outcome["ok"]:
                image["status"] = "READY"
                image["archiveSizeBytes"] = str(outcome["archive_size"])
                image["diskSizeGb"] = str(outcome["size"] // GIB)
                self.store.put("image", work["name"], image)
            else:
                self.store.delete("image", work["name"])
        elif kind == "image_from_disk":
            image = self.store.get("image", work["name"])
            if image is not None and image["id"] == op["targetId"]:
                image["status"] = "READY"
                self.store.put("image", work["name"], image)
        elif kind == "template":
            template = self.store.get("template", work["name"])
            if template is not None and template["id"] == op["targetId"]:
                template.pop("pending", None)
                self.store.put("template", work["name"], template)
        elif kind == "disk":
            disk = self.store.get("disk", work["key"])
            if disk is not None and disk["id"] == op["targetId"]:
                disk["status"] = "READY"
                self.store.put("disk", work["key"], disk)

    def get_operation(self, request, scope, name, wait=False):
        if request.method not in ("GET", "POST") or (request.method == "POST" and not wait):
            raise gerror(405, "methodNotAllowed", "%s is not allowed on an operation." % request.method)
        op = self._advance(name)
        if op is None or op["scope"] != scope:
            raise gerror(404, "notFound", "The resource 'projects/%s/%s/operations/%s' was not found" % (self.project, scope, name))
        deadline = time.monotonic() + 120
        while wait and op["status"] != "DONE" and time.monotonic() < deadline:
            time.sleep(0.1)
            op = self._advance(name)
        return Answer(200, self._public_op(op))

    @staticmethod
    def _public_op(op):
        return dict((k, v) for k, v in op.items() if k not in ("scope", "created", "work", "outcome"))

    def _advance_all(self):
        for op in self.store.list("op"):
            if op["status"] != "DONE":
                self._advance(op["name"])

    # --- images -------------------------------------------------------------------------------

    def images(self, request, rest):
        method = request.method
        self._advance_all()
        if not rest:
            if method == "POST":
                return self.insert_image(request)
            if method == "GET":
                return self._list(request, "image", "", "compute#imageList", self.link("global", "images"))
        elif len(rest) == 1:
            image = self.store.get("image", rest[0])
            if method in ("GET", "DELETE") and image is None:
                raise gerror(404, "notFound", "The resource 'projects/%s/global/images/%s' was not found" % (self.project, rest[0]))
            if method == "GET":
                return Answer(200, image)
            if method == "DELETE":
                self.store.delete("image", rest[0])
                op = self._new_op("global", "delete", image["selfLink"], image["id"])
                return Answer(200, self._public_op(op))
        elif len(rest) == 2 and rest[0] == "family" and method == "GET":
            ready = [i for i in self.store.list("image") if i.get("family") == rest[1] and i["status"] == "READY"]
            if not ready:
                raise gerror(404, "notFound", "The resource 'projects/%s/global/images/family/%s' was not found" % (self.project, rest[1]))
            return Answer(200, ready[-1])
        raise gerror(405, "methodNotAllowed", "%s is not allowed on %s." % (method, request.path))

    def _list(self, request, kind, prefix, list_kind, self_link):
        items = [i for i in self.store.list(kind, prefix) if not i.get("pending")]
        try:
            max_results = int(request.params.get("maxResults") or 500)
            start = int(request.params.get("pageToken") or 0)
        except ValueError:
            raise gerror(400, "invalid", "Invalid value for maxResults or pageToken.")
        if not 0 <= max_results <= 500:
            raise gerror(400, "invalid", "Invalid value for field 'maxResults': '%d'. Must be less than or equal to 500" % max_results)
        page = items[start:start + max_results]
        body = {"kind": list_kind, "id": self_link.split("/compute/v1/", 1)[1], "items": page, "selfLink": self_link}
        if start + max_results < len(items):
            body["nextPageToken"] = str(start + max_results)
        return Answer(200, body)

    def _check_name(self, name, what="resource.name"):
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise gerror(400, "invalid", "Invalid value for field '%s': '%s'. Must be a match of regex '%s' and at most 63 characters."
                         % (what, name, NAME_REGEX_TEXT))

    def _check_labels(self, labels, what):
        if labels is None:
            return
        if not isinstance(labels, dict) or len(labels) > 64:
            raise gerror(400, "invalid", "Invalid value for field '%s': at most 64 labels, as an object of strings." % what)
        for key, value in labels.items():
            if not re.match(r"^[a-z][a-z0-9_-]{0,62}$", key) or not isinstance(value, str) or not re.match(r"^[a-z0-9_-]{0,63}$", value):
                raise gerror(400, "invalid", "Invalid value for field '%s.%s': label keys start with a lowercase letter; keys and values "
                             "have at most 63 lowercase letters, digits, '_' or '-'." % (what, key))

    def _parse_source(self, source):
        if not isinstance(source, str) or not source:
            raise gerror(400, "required", "Required field 'resource.rawDisk.source' not specified")
        if source.startswith("gs://"):
            bucket, obj = (source[5:].split("/", 1) + [""])[:2]
        else:
            parts = urlsplit(source)
            if parts.scheme != "https" or parts.netloc not in ("storage.googleapis.com", "storage.cloud.google.com"):
                raise gerror(400, "invalid", "Invalid value for field 'resource.rawDisk.source': '%s'. The source must be "
                             "https://storage.googleapis.com/BUCKET/OBJECT or gs://BUCKET/OBJECT." % source)
            bucket, obj = (unquote(parts.path.lstrip("/")).split("/", 1) + [""])[:2]
        if not bucket or not obj:
            raise gerror(400, "invalid", "Invalid value for field 'resource.rawDisk.source': '%s'. It names no object." % source)
        return bucket, obj

    def insert_image(self, request):
        body = request.json()
        if not isinstance(body, dict):
            raise gerror(400, "parseError", "The request body must be a JSON object.")
        unknown = sorted(set(body) - set(IMAGE_FIELDS))
        if unknown:
            field = unknown[0]
            if field in ("sourceImage", "sourceSnapshot", "sourceType"):
                raise gerror(400, "invalid", "The lab's GCE plane creates images from rawDisk.source or sourceDisk only (got '%s')." % field)
            raise gerror(400, "invalid", "Invalid JSON payload received. Unknown name \"%s\" at 'image': Cannot find field." % field)
        self._check_name(body.get("name"))
        name = body["name"]
        if ("sourceDisk" in body) == ("rawDisk" in body):
            raise gerror(400, "invalid", "Exactly one of 'resource.rawDisk' and 'resource.sourceDisk' must be specified.")
        if "sourceDisk" in body:
            return self._image_from_disk(body)
        raw = body.get("rawDisk")
        if not isinstance(raw, dict):
            raise gerror(400, "required", "Required field 'resource.rawDisk' not specified (the lab needs rawDisk.source).")
        if set(raw) - {"source", "containerType", "sha1Checksum"}:
            raise gerror(400, "invalid", "Invalid JSON payload received. Unknown name \"%s\" at 'image.raw_disk'."
                         % sorted(set(raw) - {"source", "containerType", "sha1Checksum"})[0])
        if raw.get("containerType", "TAR") != "TAR":
            raise gerror(400, "invalid", "Invalid value for field 'resource.rawDisk.containerType': '%s'. Must be TAR." % raw.get("containerType"))
        bucket, obj = self._parse_source(raw.get("source"))
        if body.get("family") is not None:
            self._check_name(body["family"], "resource.family")
        self._check_labels(body.get("labels"), "resource.labels")
        features = body.get("guestOsFeatures") or []
        if not isinstance(features, list) or any(not isinstance(f, dict) or f.get("type") not in GUEST_OS_FEATURES for f in features):
            raise gerror(400, "invalid", "Invalid value for field 'resource.guestOsFeatures': each entry is {\"type\": one of %s}."
                         % ", ".join(GUEST_OS_FEATURES))
        locations = body.get("storageLocations") or []
        if not isinstance(locations, list) or len(locations) > 1 or any(loc not in REGIONS + MULTI_REGIONS for loc in locations):
            raise gerror(400, "invalid", "Invalid value for field 'resource.storageLocations': one region or multi-region (%s)."
                         % ", ".join(MULTI_REGIONS + REGIONS))
        licenses = body.get("licenses") or []
        if not isinstance(licenses, list) or any(not isinstance(lic, str) or "/licenses/" not in lic for lic in licenses):
            raise gerror(400, "invalid", "Invalid value for field 'resource.licenses': license URLs like "
                         "projects/windows-cloud/global/licenses/windows-server-2022-dc.")
        if body.get("architecture") not in (None, "X86_64", "ARM64", "ARCHITECTURE_UNSPECIFIED"):
            raise gerror(400, "invalid", "Invalid value for field 'resource.architecture': '%s'." % body["architecture"])
        fingerprint = hashlib.sha1(repr(sorted((body.get("labels") or {}).items())).encode()).hexdigest()[:12]
        with self.store.lock:
            if self.store.get("image", name) is not None:
                raise gerror(409, "alreadyExists", "The resource 'projects/%s/global/images/%s' already exists" % (self.project, name))
            image_id = self.new_id()
            image = {"kind": "compute#image", "id": image_id, "creationTimestamp": iso(time.time(), digits=3), "name": name,
                     "sourceType": "RAW", "rawDisk": {"source": raw["source"], "containerType": "TAR"}, "status": "PENDING",
                     "selfLink": self.link("global", "images", name), "labelFingerprint": fingerprint,
                     "storageLocations": locations or ["us"], "guestOsFeatures": features, "licenses": licenses}
            for key in ("description", "family", "labels", "architecture"):
                if body.get(key) is not None:
                    image[key] = body[key]
            if raw.get("sha1Checksum"):
                image["rawDisk"]["sha1Checksum"] = raw["sha1Checksum"]
            self.store.put("image", name, image)
            op = self._new_op("global", "insert", image["selfLink"], image_id, {
                "type": "image", "name": name, "bucket": bucket, "object": obj, "source": raw["source"], "sha1": raw.get("sha1Checksum")})
        return Answer(200, self._public_op(op))

    def _image_from_disk(self, body):
        """images.insert with sourceDisk: the disk must exist and be READY; the image is its copy, READY when the operation ends."""
        source = body["sourceDisk"]
        text = source.split("/compute/v1/", 1)[1] if isinstance(source, str) and "/compute/v1/" in source else source
        match = re.match(r"^(?:projects/([^/]+)/)?zones/([^/]+)/disks/([^/]+)$", text) if isinstance(text, str) else None
        if not match:
            raise gerror(400, "invalid", "Invalid value for field 'resource.sourceDisk': '%s'. The URL is malformed." % source)
        project, zone, disk_name = match.groups()
        disk = self.store.get("disk", "%s/%s" % (zone, disk_name)) if project in (None, self.project) else None
        if disk is None:
            raise gerror(404, "notFound", "The resource 'projects/%s/zones/%s/disks/%s' was not found" % (project or self.project, zone, disk_name))
        if disk["status"] != "READY":
            raise gerror(400, "resourceNotReady", "The resource 'projects/%s/zones/%s/disks/%s' is not ready" % (self.project, zone, disk_name))
        self._check_labels(body.get("labels"), "resource.labels")
        if body.get("family") is not None:
            self._check_name(body["family"], "resource.family")
        name = body["name"]
        with self.store.lock:
            if self.store.get("image", name) is not None:
                raise gerror(409, "alreadyExists", "The resource 'projects/%s/global/images/%s' already exists" % (self.project, name))
            image_id = self.new_id()
            image = {"kind": "compute#image", "id": image_id, "creationTimestamp": iso(time.time(), digits=3), "name": name,
                     "sourceType": "RAW", "sourceDisk": disk["selfLink"], "sourceDiskId": disk["id"], "status": "PENDING",
                     "diskSizeGb": disk["sizeGb"], "selfLink": self.link("global", "images", name), "storageLocations": ["us"],
                     "guestOsFeatures": disk.get("guestOsFeatures", []), "licenses": disk.get("licenses", [])}
            for key in ("description", "family", "labels", "architecture"):
                if body.get(key) is not None:
                    image[key] = body[key]
            self.store.put("image", name, image)
            op = self._new_op("global", "insert", image["selfLink"], image_id, {"type": "image_from_disk", "name": name})
        return Answer(200, self._public_op(op))

    # --- instance templates ---------------------------------------------------------------------

    def templates(self, request, rest):
        method = request.method
        self._advance_all()
        if not rest:
            if method == "POST":
                return self.insert_template(request)
            if method == "GET":
                return self._list(request, "template", "", "compute#instanceTemplateList", self.link("global", "instanceTemplates"))
        elif len(rest) == 1:
            template = self.store.get("template", rest[0])
            if template is not None and template.get("pending"):
                template = None  # being made: not there until its operation ends
            if method in ("GET", "DELETE") and template is None:
                raise gerror(404, "notFound", "The resource 'projects/%s/global/instanceTemplates/%s' was not found" % (self.project, rest[0]))
            if method == "GET":
                return Answer(200, template)
            if method == "DELETE":
                self.store.delete("template", rest[0])
                return Answer(200, self._public_op(self._new_op("global", "delete", template["selfLink"], template["id"])))
        raise gerror(405, "methodNotAllowed", "%s is not allowed on %s." % (method, request.path))

    @staticmethod
    def _unknown(body, allowed, where):
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise gerror(400, "invalid", "Invalid JSON payload received. Unknown name \"%s\" at '%s': Cannot find field." % (unknown[0], where))

    def _template_disk(self, disk, index):
        """Check one properties.disks[] entry; returns it with the source's selfLink filled in."""
        where = "resource.properties.disks[%d]" % index
        if not isinstance(disk, dict):
            raise gerror(400, "invalid", "Invalid value for field '%s': an AttachedDisk object." % where)
        self._unknown(disk, ATTACHED_DISK_FIELDS, "instance_template.properties.disks[%d]" % index)
        if disk.get("type", "PERSISTENT") not in ("PERSISTENT", "SCRATCH"):
            raise gerror(400, "invalid", "Invalid value for field '%s.type': '%s'. Must be PERSISTENT or SCRATCH." % (where, disk["type"]))
        if disk.get("mode", "READ_WRITE") not in ("READ_WRITE", "READ_ONLY"):
            raise gerror(400, "invalid", "Invalid value for field '%s.mode': '%s'. Must be READ_WRITE or READ_ONLY." % (where, disk["mode"]))
        if disk.get("interface", "SCSI") not in ("SCSI", "NVME"):
            raise gerror(400, "invalid", "Invalid value for field '%s.interface': '%s'. Must be SCSI or NVME." % (where, disk["interface"]))
        params = disk.get("initializeParams")
        if params is not None and not isinstance(params, dict):
            raise gerror(400, "invalid", "Invalid value for field '%s.initializeParams': an object." % where)
        params = params or {}
        self._unknown(params, INITIALIZE_FIELDS, "instance_template.properties.disks[%d].initialize_params" % index)
        out = dict(disk)
        if disk.get("source") is not None and params:
            raise gerror(400, "invalid", "Invalid value for field '%s': specify either source or initializeParams, not both." % where)
        if disk.get("source") is not None:
            # an existing zonal disk, by name in a template (a URL works too); it must exist and be READY
            source = str(disk["source"])
            name = source.rstrip("/").rsplit("/", 1)[-1]
            found = [d for d in self.store.list("disk") if d["name"] == name and ("/zones/" not in source or source.endswith(
                "zones/%s/disks/%s" % (d["zone"].rsplit("/", 1)[-1], name)))]
            if not found:
                raise gerror(404, "notFound", "The resource 'projects/%s/zones/-/disks/%s' was not found" % (self.project, name))
            if found[0]["status"] != "READY":
                raise gerror(400, "resourceNotReady", "The resource '%s' is not ready" % found[0]["selfLink"].split("/compute/v1/", 1)[1])
            return out
        if disk.get("boot") and not params.get("sourceImage") and not params.get("sourceSnapshot"):
            raise gerror(400, "required", "Required field '%s.initializeParams.sourceImage' not specified: a boot disk needs a source "
                         "image or an existing disk (source)." % where)
        if params.get("sourceSnapshot"):
            raise gerror(400, "invalid", "The lab's GCE plane has no snapshots ('%s.initializeParams.sourceSnapshot')." % where)
        image = self._resolve_image(params["sourceImage"]) if params.get("sourceImage") else None
        if params.get("diskSizeGb") is not None:
            try:
                size = int(params["diskSizeGb"])
            except (TypeError, ValueError):
                raise gerror(400, "invalid", "Invalid value for field '%s.initializeParams.diskSizeGb': '%s'." % (where, params["diskSizeGb"]))
            if image is not None and size < int(image["diskSizeGb"]):
                raise gerror(400, "invalid", "Invalid value for field '%s.initializeParams.diskSizeGb': '%d'. Requested disk size cannot be "
                             "smaller than the image size (%s GB)" % (where, size, image["diskSizeGb"]))
        disk_type = params.get("diskType")
        if disk_type is not None and (not isinstance(disk_type, str) or disk_type not in DISK_TYPES):
            raise gerror(400, "invalid", "Invalid value for field '%s.initializeParams.diskType': '%s'. In an instance template the disk type "
                         "is a name: one of %s." % (where, disk_type, ", ".join(DISK_TYPES)))
        self._check_labels(params.get("labels"), where + ".initializeParams.labels")
        return out

    def insert_template(self, request):
        body = request.json()
        if not isinstance(body, dict):
            raise gerror(400, "parseError", "The request body must be a JSON object.")
        self._unknown(body, TEMPLATE_FIELDS, "instance_template")
        self._check_name(body.get("name"))
        name = body["name"]
        if body.get("sourceInstance") is not None:
            raise gerror(400, "invalid", "The lab's GCE plane has no instances ('resource.sourceInstance'); give properties.")
        props = body.get("properties")
        if not isinstance(props, dict):
            raise gerror(400, "required", "Required field 'resource.properties' not specified")
        self._unknown(props, PROPERTY_FIELDS, "instance_template.properties")
        machine_type = props.get("machineType")
        if not machine_type:
            raise gerror(400, "required", "Required field 'resource.properties.machineType' not specified")
        if not isinstance(machine_type, str) or not MACHINE_TYPE_RE.match(machine_type):
            raise gerror(400, "invalid", "Invalid value for field 'resource.properties.machineType': '%s'. An instance template names the "
                         "machine type (e.g. n2-standard-4), not a zonal URL." % machine_type)
        disks = props.get("disks")
        if not isinstance(disks, list) or not disks:
            raise gerror(400, "required", "Required field 'resource.properties.disks' not specified")
        disks = [self._template_disk(disk, i) for i, disk in enumerate(disks)]
        boots = [i for i, disk in enumerate(disks) if disk.get("boot")]
        if len(boots) != 1:
            raise gerror(400, "invalid", "Invalid value for field 'resource.properties.disks': exactly one disk must have boot: true (got %d)."
                         % len(boots))
        interfaces = props.get("networkInterfaces") or []
        if not isinstance(interfaces, list) or any(not isinstance(n, dict) for n in interfaces):
            raise gerror(400, "invalid", "Invalid value for field 'resource.properties.networkInterfaces': a list of NetworkInterface objects.")
        for i, nic in enumerate(interfaces):
            self._unknown(nic, NETWORK_INTERFACE_FIELDS, "instance_template.properties.network_interfaces[%d]" % i)
        self._check_labels(props.get("labels"), "resource.properties.labels")
        if body.get("description") is not None and not isinstance(body["description"], str):
            raise gerror(400, "invalid", "Invalid value for field 'resource.description'.")
        with self.store.lock:
            if self.store.get("template", name) is not None:
                raise gerror(409, "alreadyExists", "The resource 'projects/%s/global/instanceTemplates/%s' already exists" % (self.project, name))
            template_id = self.new_id()
            properties = dict(props, disks=[dict({"kind": "compute#attachedDisk", "type": "PERSISTENT", "mode": "READ_WRITE"}, **d) for d in disks])
            template = {"kind": "compute#instanceTemplate", "id": template_id, "creationTimestamp": iso(time.time(), digits=3), "name": name,
                        "properties": properties, "selfLink": self.link("global", "instanceTemplates", name), "pending": True}
            if body.get("description") is not None:
                template["description"] = body["description"]
            self.store.put("template", name, template)
            op = self._new_op("global", "insert", template["selfLink"], template_id, {"type": "template", "name": name})
        return Answer(200, self._public_op(op))

    # --- disks --------------------------------------------------------------------------------

    def disks(self, request, zone, rest):
        method = request.method
        self._advance_all()
        if not rest:
            if method == "POST":
                return self.insert_disk(request, zone)
            if method == "GET":
                return self._list(request, "disk", zone + "/", "compute#diskList", self.link("zones", zone, "disks"))
        elif len(rest) == 1:
            key = "%s/%s" % (zone, rest[0])
            disk = self.store.get("disk", key)
            if disk is None and method in ("GET", "DELETE"):
                raise gerror(404, "notFound", "The resource 'projects/%s/zones/%s/disks/%s' was not found" % (self.project, zone, rest[0]))
            if method == "GET":
                return Answer(200, disk)
            if method == "DELETE":
                self.store.delete("disk", key)
                return Answer(200, self._public_op(self._new_op("zones/" + zone, "delete", disk["selfLink"], disk["id"])))
        raise gerror(405, "methodNotAllowed", "%s is not allowed on %s." % (method, request.path))

    def _resolve_image(self, source):
        if not isinstance(source, str) or not source:
            raise gerror(400, "required", "The lab's GCE plane creates disks from resource.sourceImage only; it is required.")
        text = source.split("/compute/v1/", 1)[1] if "/compute/v1/" in source else source
        match = re.match(r"^(?:projects/([^/]+)/)?global/images/(family/)?([^/]+)$", text)
        if not match:
            raise gerror(400, "invalid", "Invalid value for field 'resource.sourceImage': '%s'. The URL is malformed." % source)
        project, family, name = match.groups()
        if project not in (None, self.project):
            raise gerror(404, "notFound", "The resource 'projects/%s/global/images/%s' was not found" % (project, name))
        if family:
            ready = [i for i in self.store.list("image") if i.get("family") == name and i["status"] == "READY"]
            image = ready[-1] if ready else None
        else:
            image = self.store.get("image", name)
        if image is None:
            raise gerror(404, "notFound", "The resource 'projects/%s/global/images/%s%s' was not found" % (self.project, family or "", name))
        if image["status"] != "READY":
            raise gerror(400, "resourceNotReady", "The resource 'projects/%s/global/images/%s' is not ready" % (self.project, image["name"]))
        return image

    def insert_disk(self, request, zone):
        body = request.json()
        if not isinstance(body, dict):
            raise gerror(400, "parseError", "The request body must be a JSON object.")
        unknown = sorted(set(body) - set(DISK_FIELDS))
        if unknown:
            raise gerror(400, "invalid", "Invalid JSON payload received. Unknown name \"%s\" at 'disk': Cannot find field." % unknown[0])
        self._check_name(body.get("name"))
        self._check_labels(body.get("labels"), "resource.labels")
        image = self._resolve_image(body.get("sourceImage"))
        image_gb = int(image["diskSizeGb"])
        size = body.get("sizeGb", image_gb)
        try:
            size = int(size)
        except (TypeError, ValueError):
            raise gerror(400, "invalid", "Invalid value for field 'resource.sizeGb': '%s'." % size)
        if size < image_gb:
            raise gerror(400, "invalid", "Invalid value for field 'resource.sizeGb': '%d'. Requested disk size cannot be smaller than the "
                         "image size (%d GB)" % (size, image_gb))
        disk_type = body.get("type") or "pd-standard"
        type_name = disk_type.rsplit("/", 1)[-1]
        if type_name not in DISK_TYPES or ("/" in disk_type and "zones/%s/diskTypes/" % zone not in disk_type):
            raise gerror(400, "invalid", "Invalid value for field 'resource.type': '%s'. Disk type must be zones/%s/diskTypes/<one of %s>."
                         % (disk_type, zone, ", ".join(DISK_TYPES)))
        key = "%s/%s" % (zone, body["name"])
        with self.store.lock:
            if self.store.get("disk", key) is not None:
                raise gerror(409, "alreadyExists", "The resource 'projects/%s/zones/%s/disks/%s' already exists"
                             % (self.project, zone, body["name"]))
            disk_id = self.new_id()
            disk = {"kind": "compute#disk", "id": disk_id, "creationTimestamp": iso(time.time(), digits=3), "name": body["name"],
                    "sizeGb": str(size), "zone": self.link("zones", zone), "status": "CREATING", "selfLink": self.link("zones", zone, "disks",
                                                                                                                       body["name"]),
                    "sourceImage": image["selfLink"], "sourceImageId": image["id"], "type": self.link("zones", zone, "diskTypes", type_name),
                    "licenses": image.get("licenses", []), "guestOsFeatures": image.get("guestOsFeatures", []),
                    "physicalBlockSizeBytes": "4096", "labels": body.get("labels") or {}}
            if body.get("description"):
                disk["description"] = body["description"]
            self.store.put("disk", key, disk)
            op = self._new_op("zones/" + zone, "insert", disk["selfLink"], disk_id, {"type": "disk", "key": key})
        return Answer(200, self._public_op(op))


def start(state_dir, config):
    return Running(GcePlane(state_dir, config), config.get("host", "127.0.0.1"), config.get("port", 0))


def main(argv=None):
    return serve_main("python -m ips_lab.planes.gce_plane", start, argv)


if __name__ == "__main__":
    raise SystemExit(main())
