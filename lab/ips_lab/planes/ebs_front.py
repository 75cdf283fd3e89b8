"""The EBS direct front of the lab (plain HTTP, loopback): boto3's `ebs` client, pointed at
IPS_LAB_EBS_URL, talks to this; it checks what moto does not and forwards to moto.

    python -m ips_lab.planes.ebs_front --state-dir DIR --config FILE.json

Rules (docs/lab.md, "The EBS direct front"):
- StartSnapshot: VolumeSize 1..65536 GiB, Timeout 10..4320 min, ParentSnapshotId must exist and not
  go with Encrypted; ClientToken is idempotent (same token and parameters: the same snapshot;
  same token, other parameters: 409 ConflictException).
- PutSnapshotBlock: the snapshot was started here and is pending, BlockIndex < VolumeSize x 2048,
  DataLength and the body exactly 524288 bytes, ChecksumAlgorithm SHA256 and Checksum =
  base64(SHA-256(data)); otherwise 400 ValidationException naming the field.
- CompleteSnapshot: ChangedBlocksCount = distinct blocks written; with a Checksum, algorithm
  SHA256 and aggregation LINEAR, and the checksum = base64(SHA-256(raw 32-byte block digests
  concatenated in ascending block index)). A mismatch answers 400 and puts the snapshot in
  `error` (moto has no error state: the front tags the moto snapshot `ips-lab:ebs-status=error`).
- A pending snapshot with no activity for Timeout minutes goes to `error`.
- Signed calls only, with the lab's keys (sigv4.py): unsigned 403 MissingAuthenticationTokenException; a key the lab
  did not issue, or its temporary key without its session token, 403 UnrecognizedClientException; a wrong signature
  403 InvalidSignatureException. EC2 calls (POST /) answer EC2's codes: AuthFailure (401), SignatureDoesNotMatch (403).
- Fault action `lose` (POST /_lab/faults {"action": "lose", "method": "PUT", "path": "/blocks/7$"}): a PutSnapshotBlock that
  passes every check is answered 201 as usual and counted for CompleteSnapshot (count and aggregate), but its block is
  never stored: ListSnapshotBlocks does not list it. A block EBS acknowledged and then does not hold.
- Reads (ListSnapshotBlocks, GetSnapshotBlock, ListChangedBlocks) only on completed snapshots;
  the lists page by MaxResults/NextToken here (moto ignores both).
Per-snapshot block digests are kept in <state-dir>/ebs.sqlite.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from urllib.parse import urlencode

from ..common.server import serve_main
from . import caps
from .base import Answer, DocStore, HttpError, Running, forward_read
from .faults import PlaneLab
from . import sigv4

BLOCK_SIZE = 524288
BLOCKS_PER_GIB = 1024 * 1024 * 1024 // BLOCK_SIZE
MAX_VOLUME_GIB = 65536
DEFAULT_TIMEOUT_MIN = 60
DEFAULT_MAX_RESULTS = 10000
SNAPSHOT_RE = re.compile(r"^snap-[0-9a-f]{8,17}$")
START_FIELDS = ("VolumeSize", "ParentSnapshotId", "Tags", "Description", "Encrypted", "KmsKeyArn", "Timeout")
ERROR_TAG = "ips-lab:ebs-status"
# a snapshot's status in moto's DescribeSnapshots XML (snapshotId, volumeId, status come in that order)
SNAPSHOT_STATUS_RE = re.compile(r"(<snapshotId>(snap-[0-9a-f]+)</snapshotId>\s*<volumeId>[^<]*</volumeId>\s*<status>)([a-z]+)(</status>)")
# moto reads the service from the credential scope; it checks no signature.
MOTO_EC2_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/%s/ec2/aws4_request, SignedHeaders=host, "
                 "Signature=0000000000000000000000000000000000000000000000000000000000000000")
# Injected faults without a raw body: (x-amzn-ErrorType, message, Reason) as the EBS direct API answers.
THROTTLED = ("ThrottlingException", "The number of API requests has exceeded the maximum allowed API request throttling limit for "
             "the snapshot.", "RESOURCE_LEVEL_THROTTLE")
FAULTS = {400: THROTTLED, 429: THROTTLED, 503: THROTTLED,
          500: ("InternalServerException", "An internal error has occurred.", None),
          403: ("AccessDeniedException", "You do not have sufficient access to perform this action.", "UNAUTHORIZED_ACCOUNT"),
          404: ("ResourceNotFoundException", "The specified resource does not exist.", None)}
# How EBS direct answers a call it cannot authenticate (EBS User Guide, "Error retries for EBS direct APIs" and the
# common errors: MissingAuthenticationToken, UnrecognizedClientException, InvalidSignatureException, all 403)
EBS_AUTH_ERRORS = {
    sigv4.UNSIGNED: (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    sigv4.UNKNOWN_KEY: (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    sigv4.BAD_SIGNATURE: (403, "InvalidSignatureException", "The request signature we calculated does not match the signature you "
                          "provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
}
# ... and how EC2 answers one (EC2 API Reference, "Error codes for the Amazon EC2 API", common client errors)
EC2_AUTH_ERRORS = {
    sigv4.UNSIGNED: (401, "MissingAuthenticationToken", "The request must contain the parameter AWSAccessKeyId"),
    sigv4.UNKNOWN_KEY: (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
    sigv4.BAD_SIGNATURE: (403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. "
                          "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
}
SCHEMA = "CREATE TABLE IF NOT EXISTS blocks (snapshot TEXT NOT NULL, idx INTEGER NOT NULL, digest BLOB NOT NULL, PRIMARY KEY (snapshot, idx))"


def aws_error(status, kind, message, reason=None):
    body = {"message": message, "Message": message}
    if reason:
        body["Reason"] = reason
    return HttpError(status, body, {"x-amzn-ErrorType": kind, "x-amzn-RequestId": _request_id()})


def ec2_error(status, code, message):
    """An error as EC2's Query API gives it (XML)."""
    from xml.sax.saxutils import escape

    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors>'
            '<RequestID>%s</RequestID></Response>' % (code, escape(message), _request_id())).encode("utf-8")
    return HttpError(status, body, {}, "text/xml;charset=UTF-8")


def validation(message, reason="INVALID_PARAMETER_VALUE"):
    return aws_error(400, "ValidationException", message, reason)


def not_found(snapshot_id):
    return aws_error(404, "ResourceNotFoundException", "The snapshot '%s' does not exist." % snapshot_id, "SNAPSHOT_NOT_FOUND")


def _request_id():
    return binascii.hexlify(hashlib.sha1(str(time.time()).encode()).digest()[:16]).decode()


class EbsFront(object):
    def __init__(self, state_dir, config):
        self.store = DocStore("%s/ebs.sqlite" % state_dir)
        self.store.execute(SCHEMA)
        self.moto = config["moto_url"]
        self.region = config.get("region", "us-east-1")
        self.url = None
        self.lab = PlaneLab(state_dir, config.get("admin_token"), settings={
            "snapshot_block_cap": (caps.OFF, caps.valid_cap, caps.CAP_WANTS + " (PutSnapshotBlock requests per second per snapshot)")},
            extra_actions=("lose",))
        self.buckets = caps.Buckets()
        # the lab's own AWS keys, the only ones it takes ({access key id: (secret, session token or None)})
        self.aws_keys = sigv4.keys_of(config)
        # block tokens are the front's own (moto checks none): an HMAC of snapshot and block index
        self.token_key = hashlib.sha256(("ebs-block-token:%s" % config.get("admin_token")).encode("utf-8")).digest()

    def bound(self, url):
        self.url = url

    def close(self):
        self.lab.close()
        self.store.close()

    @staticmethod
    def fault_error(status, request):
        """The error an injected `status` fault answers with (AWS JSON, x-amzn-ErrorType)."""
        del request
        kind, message, reason = FAULTS.get(status, ("InternalServerException" if status >= 500 else "ValidationException",
                                                    "Injected fault (HTTP %d)." % status, None))
        return aws_error(status, kind, message, reason)

    # --- dispatch -----------------------------------------------------------------------------

    def handle(self, request):
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        if not parts and method == "POST":
            found = sigv4.problem(request, self.aws_keys)
            if found:  # EC2 speaks XML, with its own codes (EC2 API Reference, "Error codes": common client errors)
                raise ec2_error(*EC2_AUTH_ERRORS[found[0]])
            return self.ec2_query(request)
        if not parts:
            return Answer(200, {"service": "ips-lab ebs front"})
        if parts[0] != "snapshots":
            raise aws_error(404, "UnknownOperationException", "The front serves only the EBS direct API (/snapshots...).")
        # AWS refuses an unsigned, unknown or wrongly signed call before looking at it (moto crashed on an unsigned one)
        found = sigv4.problem(request, self.aws_keys)
        if found:
            raise aws_error(*EBS_AUTH_ERRORS[found[0]])
        if parts == ["snapshots"] and method == "POST":
            return self.start_snapshot(request)
        if len(parts) == 3 and parts[1] == "completion" and method == "POST":
            return self.complete_snapshot(request, parts[2])
        if len(parts) == 4 and parts[2] == "blocks" and method == "PUT":
            return self.put_block(request, parts[1], parts[3])
        if len(parts) == 4 and parts[2] == "blocks" and method == "GET":
            return self.get_block(request, parts[1], parts[3])
        if len(parts) == 3 and parts[2] == "blocks" and method == "GET":
            return self.list_paged(request, parts[1], "Blocks", "/snapshots/%s/blocks" % parts[1], {})
        if len(parts) == 3 and parts[2] == "changedblocks" and method == "GET":
            return self.list_changed(request, parts[1], request.params.get("firstSnapshotId"))
        raise aws_error(404, "UnknownOperationException", "No EBS operation %s %s." % (method, request.path))

    # --- EC2, as the snapshots' states are seen -------------------------------------------------

    def ec2_query(self, request):
        """An EC2 Query API call (POST /, Action=...), forwarded to moto; in DescribeSnapshots a snapshot this front
        started reads the state EBS gives it (pending, completed, or error after a wrong CompleteSnapshot) where moto
        says completed from the start. What ec2.<region>.amazonaws.com answers through the real-host proxy."""
        body = request.body()
        skip = ("host", "content-length", "connection", "transfer-encoding")
        headers = dict((k, v) for k, v in request.headers.items() if k.lower() not in skip)
        headers["Content-Length"] = str(len(body))
        status, answer_headers, data = forward_read(self.moto, "POST", "/", headers, body)
        if status >= 500 and b"<html" in data[:200].lower():
            raise aws_error(500, "InternalError", "An internal error has occurred.")
        if status == 200 and b"<DescribeSnapshotsResponse" in data[:300]:
            data = SNAPSHOT_STATUS_RE.sub(self._front_status, data.decode("utf-8")).encode("utf-8")
        dropped = ("content-length", "connection", "server", "date", "transfer-encoding", "content-type")
        keep = dict((k, v) for k, v in answer_headers.items() if k.lower() not in dropped)
        content_type = dict((k.lower(), v) for k, v in answer_headers.items()).get("content-type", "text/xml")
        return Answer(status, data, keep, content_type)

    def _front_status(self, match):
        snap = self._snapshot(match.group(2))
        return match.group(1) + (snap["status"] if snap else match.group(3)) + match.group(4)

    # --- moto ---------------------------------------------------------------------------------

    def _moto(self, method, path, request=None, body=None, extra=None):
        headers = {}
        if request is not None:
            for name, value in request.headers.items():
                if name.lower() not in ("host", "content-length", "connection", "transfer-encoding"):
                    headers[name] = value
        headers.update(extra or {})
        if body is not None:
            headers["Content-Length"] = str(len(body))
        return forward_read(self.moto, method, path, headers, body)

    def _ec2(self, params):
        form = dict(params, Version="2016-11-15")
        body = urlencode(form).encode("ascii")
        return forward_read(self.moto, "POST", "/", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                                     "Authorization": MOTO_EC2_AUTH % self.region, "Content-Length": str(len(body))}, body)

    @staticmethod
    def _pass(status, headers, body):
        if status >= 500 or not (body or b"{").lstrip().startswith((b"{", b"[")) and status >= 400:
            # moto crashed (an HTML traceback page): EBS answers JSON, and a client must not retry a bug forever
            raise aws_error(500, "InternalServerException", "An internal error has occurred.")
        dropped = ("content-length", "connection", "server", "date", "transfer-encoding", "content-type")
        keep = dict((k, v) for k, v in headers.items() if k.lower() not in dropped)
        content_type = dict((k.lower(), v) for k, v in headers.items()).get("content-type", "application/json")
        return Answer(status, body, keep, content_type)

    # --- snapshots ----------------------------------------------------------------------------

    def _snapshot(self, snapshot_id):
        """The front's record, with the Timeout rule applied; None if it never started here."""
        with self.store.lock:
            snap = self.store.get("snapshot", snapshot_id)
            if snap and snap["status"] == "pending" and time.time() - snap["last_activity"] > snap["timeout"] * 60:
                self._fail(snap, "timed out: no block and no completion for %d minutes" % snap["timeout"])
        return snap

    def _fail(self, snap, why):
        snap["status"] = "error"
        snap["error"] = why
        self.store.put("snapshot", snap["id"], snap)
        try:
            self._ec2({"Action": "CreateTags", "ResourceId.1": snap["id"], "Tag.1.Key": ERROR_TAG, "Tag.1.Value": "error"})
        except OSError:
            pass

    def _pending(self, snapshot_id):
        snap = self._snapshot(snapshot_id)
        if snap is None:
            raise not_found(snapshot_id)
        if snap["status"] != "pending":
            why = (": %s" % snap["error"]) if snap.get("error") else ""
            raise validation("The snapshot '%s' is %s%s; blocks can be written and the snapshot completed only while it is "
                             "pending." % (snapshot_id, snap["status"], why), "INVALID_SNAPSHOT_ID")
        return snap

    def _readable(self, snapshot_id):
        snap = self._snapshot(snapshot_id)
        if snap is not None and snap["status"] != "completed":
            raise validation("The snapshot '%s' is %s; the EBS direct read APIs serve completed snapshots only."
                             % (snapshot_id, snap["status"]), "INVALID_SNAPSHOT_ID")
        return snap

    def _moto_has_snapshot(self, snapshot_id):
        status, _headers, body = self._ec2({"Action": "DescribeSnapshots", "SnapshotId.1": snapshot_id})
        return status == 200 and ("<snapshotId>%s</snapshotId>" % snapshot_id).encode() in body

    def start_snapshot(self, request):
        body = request.json()
        size = body.get("VolumeSize")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_VOLUME_GIB:
            raise validation("VolumeSize must be a whole number of GiB from 1 to %d (got %r)." % (MAX_VOLUME_GIB, size), "INVALID_VOLUME_SIZE")
        timeout = body.get("Timeout", DEFAULT_TIMEOUT_MIN)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 10 <= timeout <= 4320:
            raise validation("Timeout must be 10 to 4320 minutes (got %r)." % (timeout,))
        description = body.get("Description")
        if description is not None and (not isinstance(description, str) or not 1 <= len(description) <= 255):
            raise validation("Description must have 1 to 255 characters.")
        tags = body.get("Tags") or []
        if not isinstance(tags, list) or len(tags) > 50:
            raise validation("Tags: at most 50 tags.", "INVALID_TAG")
        for tag in tags:
            if not isinstance(tag, dict) or not tag.get("Key") or str(tag["Key"]).lower().startswith("aws:"):
                raise validation("Tags: every tag needs a Key that does not start with aws: (got %r)." % (tag,), "INVALID_TAG")
        parent = body.get("ParentSnapshotId")
        if parent is not None:
            if body.get("Encrypted"):
                raise validation("ParentSnapshotId and Encrypted cannot be given together.")
            known = self._snapshot(parent)
            if known is not None and known["status"] != "completed":
                raise validation("The parent snapshot '%s' is %s, not completed." % (parent, known["status"]), "INVALID_SNAPSHOT_ID")
            if known is None and not self._moto_has_snapshot(parent):
                raise aws_error(404, "ResourceNotFoundException", "The parent snapshot '%s' does not exist." % parent, "SNAPSHOT_NOT_FOUND")
        if body.get("KmsKeyArn") and not body.get("Encrypted"):
            raise validation("KmsKeyArn needs Encrypted=true.")
        params = dict((k, body.get(k)) for k in START_FIELDS)
        params["Timeout"] = timeout
        token = body.get("ClientToken")
        with self.store.lock:
            if token:
                seen = self.store.get("client_token", token)
                if seen is not None:
                    if seen["params"] != params:
                        raise aws_error(409, "ConflictException", "The request uses the same client token as a previous, but non-identical "
                                        "request.")
                    return Answer(201, seen["answer"])
            forwarded = dict((k, v) for k, v in body.items() if k != "ClientToken")
            status, headers, data = self._moto("POST", "/snapshots", request, json.dumps(forwarded).encode("utf-8"),
                                               {"Content-Type": "application/json"})
            if status not in (200, 201):
                return self._pass(status, headers, data)
            answer = json.loads(data.decode("utf-8"))
            answer["BlockSize"] = BLOCK_SIZE
            if parent:
                answer["ParentSnapshotId"] = parent
            if body.get("KmsKeyArn"):
                answer["KmsKeyArn"] = body["KmsKeyArn"]
            snapshot_id = answer["SnapshotId"]
            now = time.time()
            self.store.put("snapshot", snapshot_id, {"id": snapshot_id, "status": "pending", "volume_size": size, "timeout": timeout,
                                                     "started": now, "last_activity": now, "client_token": token, "error": None})
            if token:
                self.store.put("client_token", token, {"params": params, "answer": answer})
        return Answer(201, answer)

    def put_block(self, request, snapshot_id, index_text):
        try:
            index = int(index_text)
        except ValueError:
            raise validation("BlockIndex must be a whole number (got %r)." % index_text, "INVALID_BLOCK")
        snap = self._pending(snapshot_id)
        self._throttle(snapshot_id)
        limit = snap["volume_size"] * BLOCKS_PER_GIB
        if not 0 <= index < limit:
            raise validation("BlockIndex %d is outside the volume: a %d GiB snapshot has blocks 0 to %d." % (index, snap["volume_size"],
                             limit - 1), "INVALID_BLOCK")
        declared = request.headers.get("x-amz-Data-Length")
        if declared is None:
            raise validation("DataLength (x-amz-Data-Length) is required.")
        if declared.strip() != str(BLOCK_SIZE):
            raise validation("DataLength must be %d (one 512 KiB block; pad the last block with zeros), got %s." % (BLOCK_SIZE, declared))
        if request.length != BLOCK_SIZE:
            raise validation("BlockData must be exactly %d bytes, got %d." % (BLOCK_SIZE, request.length))
        data = request.body(BLOCK_SIZE)
        algorithm = request.headers.get("x-amz-Checksum-Algorithm")
        if algorithm != "SHA256":
            raise validation("ChecksumAlgorithm must be SHA256 (got %r)." % (algorithm,))
        checksum = request.headers.get("x-amz-Checksum")
        digest = hashlib.sha256(data).digest()
        if not checksum:
            raise validation("Checksum (x-amz-Checksum) is required: base64 of the SHA-256 of the block.")
        if checksum.strip() != base64.b64encode(digest).decode("ascii"):
            raise validation("Checksum does not match the block data: it must be base64(SHA-256(BlockData)) of the 524288 bytes sent.")
        progress = request.headers.get("x-amz-Progress")
        if progress is not None and (not progress.isdigit() or int(progress) > 100):
            raise validation("Progress must be 0 to 100 (got %s)." % progress)
        fault = getattr(request, "fault", None)
        if fault and fault["action"] == "lose":  # acknowledged as EBS does, counted, never stored (moto never sees it)
            status, headers, body = 201, {"x-amz-Checksum": checksum.strip(), "x-amz-Checksum-Algorithm": "SHA256"}, b""
        else:
            status, headers, body = self._moto("PUT", request.raw_path + ("?" + request.query if request.query else ""), request, data)
        if status in (200, 201):
            with self.store.lock:
                self.store.execute("INSERT OR REPLACE INTO blocks (snapshot, idx, digest) VALUES (?, ?, ?)", (snapshot_id, index, digest))
                snap = self.store.get("snapshot", snapshot_id)
                snap["last_activity"] = time.time()
                self.store.put("snapshot", snapshot_id, snap)
        return self._pass(status, headers, body)

    def _throttle(self, snapshot_id):
        """The per-snapshot PutSnapshotBlock cap (caps.py; off unless the `snapshot_block_cap` setting is on)."""
        rate = caps.rate_of(self.lab.setting("snapshot_block_cap"), caps.EBS_BLOCKS_PER_SECOND)
        if rate and self.buckets.take(snapshot_id, rate, 1):
            raise aws_error(400, "RequestThrottledException", THROTTLED[1], THROTTLED[2])

    def complete_snapshot(self, request, snapshot_id):
        snap = self._snapshot(snapshot_id)
        if snap is None:
            raise not_found(snapshot_id)
        if snap["status"] == "completed":
            return Answer(202, {"Status": "completed"})
        snap = self._pending(snapshot_id)
        count_text = request.headers.get("x-amz-ChangedBlocksCount")
        if count_text is None or not count_text.strip().isdigit():
            raise validation("ChangedBlocksCount (x-amz-ChangedBlocksCount) is required and must be a whole number.")
        checksum = request.headers.get("x-amz-Checksum")
        algorithm = request.headers.get("x-amz-Checksum-Algorithm")
        method = request.headers.get("x-amz-Checksum-Aggregation-Method")
        if checksum or algorithm or method:
            if algorithm != "SHA256":
                raise validation("ChecksumAlgorithm must be SHA256 when a checksum is given (got %r)." % (algorithm,))
            if method != "LINEAR":
                raise validation("ChecksumAggregationMethod must be LINEAR when a checksum is given (got %r)." % (method,))
            if not checksum:
                raise validation("Checksum is required with ChecksumAlgorithm and ChecksumAggregationMethod.")
        with self.store.lock:
            rows = self.store.execute("SELECT digest FROM blocks WHERE snapshot = ? ORDER BY idx", (snapshot_id,))
            written = len(rows)
            if int(count_text) != written:
                self._fail(snap, "ChangedBlocksCount %s does not match the %d distinct blocks written" % (count_text, written))
                raise validation("ChangedBlocksCount is %s but %d distinct blocks were written; the snapshot is now in error."
                                 % (count_text, written))
            if checksum:
                expected = base64.b64encode(hashlib.sha256(b"".join(bytes(r[0]) for r in rows)).digest()).decode("ascii")
                if checksum.strip() != expected:
                    self._fail(snap, "the LINEAR aggregate checksum does not match the blocks written")
                    raise validation("Checksum does not match: the LINEAR aggregate is base64(SHA-256 of the raw 32-byte SHA-256 digests "
                                     "of the written blocks, concatenated in ascending block index); the snapshot is now in error.")
            status, headers, body = self._moto("POST", request.raw_path, request, b"")
            if status in (200, 202):
                snap["status"] = "completed"
                snap["last_activity"] = time.time()
                self.store.put("snapshot", snapshot_id, snap)
        return self._pass(status, headers, body)

    # --- reads --------------------------------------------------------------------------------

    # --- reads ----------------------------------------------------------------------------------

    def block_token(self, snapshot_id, index):
        mac = hmac.new(self.token_key, ("%s:%d" % (snapshot_id, index)).encode("ascii"), hashlib.sha256).digest()
        return base64.b64encode(("%d:" % index).encode("ascii") + mac).decode("ascii")

    def _written(self, snapshot_id):
        """{block index: SHA-256 digest} of the blocks written to a snapshot through the front."""
        return dict(self.store.execute("SELECT idx, digest FROM blocks WHERE snapshot = ?", (snapshot_id,)))

    def get_block(self, request, snapshot_id, index_text):
        snap = self._readable(snapshot_id)
        if snap is None and not self._moto_has_snapshot(snapshot_id):
            raise not_found(snapshot_id)
        token = request.params.get("blockToken")
        if not token:
            raise validation("BlockToken (blockToken) is required.", "INVALID_BLOCK_TOKEN")
        try:
            index = int(index_text)
        except ValueError:
            raise validation("BlockIndex must be a whole number (got %r)." % index_text, "INVALID_BLOCK")
        # a token the front never gave (forged, another block's or another snapshot's) is refused, as EBS refuses it;
        # a never-written block has no token at all (moto crashed reading one)
        if not hmac.compare_digest(token, self.block_token(snapshot_id, index)) or (snap is not None and index not in self._written(snapshot_id)):
            raise validation("The block token is not valid for block %d of snapshot %s." % (index, snapshot_id), "INVALID_BLOCK_TOKEN")
        status, headers, body = self._moto("GET", request.raw_path + "?" + request.query, request)
        return self._pass(status, headers, body)

    def list_changed(self, request, second_id, first_id):
        """ListChangedBlocks, worked out here from the blocks written through the front (moto's crashes without a first
        snapshot and misses blocks only the second has): the blocks that differ, with each side's token."""
        self._readable(second_id)
        if self._snapshot(second_id) is None:
            raise not_found(second_id)
        second = self._written(second_id)
        first = {}
        if first_id:
            self._readable(first_id)
            if self._snapshot(first_id) is None:
                raise not_found(first_id)
            first = self._written(first_id)
        items = []
        for index in sorted(set(first) | set(second)):
            if first.get(index) == second.get(index):
                continue
            item = {"BlockIndex": index}
            if index in first:
                item["FirstBlockToken"] = self.block_token(first_id, index)
            if index in second:
                item["SecondBlockToken"] = self.block_token(second_id, index)
            items.append(item)
        snap = self._snapshot(second_id)
        return self._page(request, second_id, "ChangedBlocks", items, {"VolumeSize": snap["volume_size"]} if snap.get("volume_size") else {})

    def list_paged(self, request, snapshot_id, key, path, extra_query):
        self._readable(snapshot_id)
        query = urlencode(extra_query)
        status, headers, body = self._moto("GET", path + ("?" + query if query else ""), request)
        if status != 200:
            return self._pass(status, headers, body)
        answer = json.loads(body.decode("utf-8"))
        items = answer.pop(key, None) or []
        for item in items:
            item["BlockToken"] = self.block_token(snapshot_id, item["BlockIndex"])
        answer.pop("NextToken", None)
        return self._page(request, snapshot_id, key, items, answer)

    def _page(self, request, snapshot_id, key, items, answer):
        """One page of a block listing (MaxResults, NextToken / StartingBlockIndex), which moto ignores."""
        params = request.params
        try:
            max_results = int(params.get("maxResults") or DEFAULT_MAX_RESULTS)
        except ValueError:
            raise validation("MaxResults must be a whole number.")
        if not 100 <= max_results <= 10000:
            raise validation("MaxResults must be 100 to 10000 (got %d)." % max_results)
        start = 0
        token = params.get("pageToken")
        if token:
            try:
                owner, index = base64.b64decode(token.encode("ascii"), validate=True).decode("ascii").rsplit(":", 1)
                start = int(index)
            except (ValueError, UnicodeDecodeError, binascii.Error):
                raise validation("The NextToken is not valid.", "INVALID_PAGE_TOKEN")
            if owner != "%s/%s" % (snapshot_id, key):
                raise validation("The NextToken belongs to another listing.", "INVALID_PAGE_TOKEN")
        elif params.get("startingBlockIndex"):
            try:
                start = int(params["startingBlockIndex"])
            except ValueError:
                raise validation("StartingBlockIndex must be a whole number.")
        items = sorted((b for b in items if b["BlockIndex"] >= start), key=lambda b: b["BlockIndex"])
        page, rest = items[:max_results], items[max_results:]
        answer = dict(answer)
        answer[key] = page
        if rest:
            answer["NextToken"] = base64.b64encode(("%s/%s:%d" % (snapshot_id, key, rest[0]["BlockIndex"])).encode("ascii")).decode("ascii")
        answer["BlockSize"] = BLOCK_SIZE
        return Answer(200, answer)


def start(state_dir, config):
    return Running(EbsFront(state_dir, config), config.get("host", "127.0.0.1"), config.get("port", 0))


def main(argv=None):
    return serve_main("python -m ips_lab.planes.ebs_front", start, argv)


if __name__ == "__main__":
    raise SystemExit(main())
