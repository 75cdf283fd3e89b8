# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS target: an EBS snapshot written with the EBS direct APIs (boto3), optionally a volume.

StartSnapshot (ClientToken kept in the journal, so a re-run gets the same pending snapshot),
PutSnapshotBlock of every non-zero 512 KiB block with its SHA-256, CompleteSnapshot with the
LINEAR aggregate (SHA-256 over the raw per-block digests in block order; the journal keeps the
digests of a killed run), wait until `completed`, tag it. botocore's own retries are off
(total_max_attempts 1: botocore's `max_attempts` counts retries, so 1 there would still retry once):
the pipeline retries, so tries never nest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import uuid

from ansible_collections.citrix_community.ips.plugins.module_utils import _aws_auth
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import FINGERPRINT_TAG, STATE_TAG, MissingLibrary, Target
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UploadError
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import GIB, ceil_div
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status

BLOCK = 512 * 1024
RETRY_CODES = ("ThrottlingException", "RequestThrottledException", "InternalServerException", "ServiceUnavailableException",
               "InternalError", "RequestTimeout", "RequestTimeoutException", "SlowDown")
# How ips_upload names each sign-in setting in messages (the aws dict's key, or the top-level option the
# citrix_community.ips.aws action group sets, or the environment).
OPTION_NAMES = dict((k, "aws.%s (or aws_%s)" % (k, k)) for k in ("access_key_id", "secret_access_key", "session_token", "profile", "region"))
THROTTLE_CODES = ("ThrottlingException", "RequestThrottledException", "SlowDown")


def _percent(text):
    """EC2's progress ("42%") as a number, or None."""
    try:
        return int(str(text).rstrip("%"))
    except ValueError:
        return None


class AwsTarget(Target):
    name = "aws"
    unit_size = BLOCK
    whole_units = True
    default_concurrency = 16
    journal_outlives_target = True

    def __init__(self, options, image, fp, timeout=60, tries=8, concurrency=16, wait_timeout=3600):
        super(AwsTarget, self).__init__(options, image, fp, timeout, tries, wait_timeout)
        try:
            import boto3  # noqa: F401 pylint: disable=unused-import
            from botocore.config import Config
        except ImportError as exc:
            raise MissingLibrary("boto3", "AWS", exc)
        o = options
        self.secrets = [s for s in (o.get("secret_access_key"), o.get("session_token")) if s]
        self.snapshot_name = o["snapshot_name"]
        session, self.region = _aws_auth.session(o.get("access_key_id"), o.get("secret_access_key"), o.get("session_token"),
                                                 o.get("profile"), o.get("region"), names=OPTION_NAMES)
        cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=min(timeout, 30), read_timeout=timeout,
                     max_pool_connections=max(10, concurrency + 4))
        self.ebs = session.client("ebs", endpoint_url=o.get("ebs_endpoint_url"), config=cfg)
        self.ec2 = session.client("ec2", endpoint_url=o.get("ec2_endpoint_url"),
                                  config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=min(timeout, 30),
                                                read_timeout=timeout))
        self.snapshot_id = None
        self.volume_gib = max(1, ceil_div(image.virtual_size, GIB))
        self._found = None

    def object_key(self):
        return "aws:%s:%s" % (self.region, self.snapshot_name)

    def target_size(self):
        return self.volume_gib * GIB

    def describe(self):
        return {"snapshot_name": self.snapshot_name, "volume_size_gib": self.volume_gib, "region": self.region}

    def describe_name(self):
        return "snapshot %s" % self.snapshot_name

    # -- errors --

    def _wrap(self, exc, doing):
        text = self.redact(exc)
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
        hint = "check the aws options and the network path to the endpoint"
        if code in ("AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDeniedException",
                    "AccessDenied", "ExpiredToken"):
            hint = ("check aws.access_key_id, aws.secret_access_key and aws.session_token, or aws.profile (or AWS_ACCESS_KEY_ID, "
                    "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or AWS_SECURITY_TOKEN, AWS_PROFILE)")
        return UploadError("AWS refused to %s: %s; %s" % (doing, text, hint))

    def classify(self, exc):
        try:
            from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError
        except ImportError:  # pragma: no cover
            return False, False, 0
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = err.get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in RETRY_CODES or status >= 500 or status == 429:
                return True, code in THROTTLE_CODES or status == 429, 0
            # "snapshot does not exist" right after StartSnapshot (read-your-write lag)
            if code == "ResourceNotFoundException" and "snapshot" in str(err.get("Message", "")).lower():
                return True, False, 1.0
            return False, False, 0
        if isinstance(exc, (BotoConnectionError, HTTPClientError)):
            return True, False, 0
        return False, False, 0

    def _call(self, doing, func, **kw):
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return func(**kw)
        except (ClientError, BotoCoreError) as exc:
            raise self._wrap(exc, doing)

    # -- the target --

    def _snapshots(self):
        answer = self._call("list snapshots", self.ec2.describe_snapshots, OwnerIds=["self"],
                            Filters=[{"Name": "tag:Name", "Values": [self.snapshot_name]}, {"Name": "tag-key", "Values": [FINGERPRINT_TAG]}])
        return [s for s in answer.get("Snapshots", []) if s.get("State") != "error"]

    def exists(self):
        snaps = self._snapshots()
        for snap in snaps:
            tags = dict((t["Key"], t["Value"]) for t in snap.get("Tags", []))
            if snap.get("State") == "completed" and tags.get(FINGERPRINT_TAG) == self.fingerprint and tags.get(STATE_TAG) == "complete":
                self._found = snap
                self.snapshot_id = snap["SnapshotId"]
                self.result = {"snapshot_id": self.snapshot_id, "snapshot_state": "completed"}
                self.result.update(self._find_volume())
                return "complete"
        if any(dict((t["Key"], t["Value"]) for t in s.get("Tags", [])).get(FINGERPRINT_TAG) != self.fingerprint for s in snaps):
            return "different"
        if snaps:
            return "partial"
        return None

    def _find_volume(self):
        if not self.options.get("create_volume"):
            return {}
        answer = self._call("list volumes", self.ec2.describe_volumes, Filters=[{"Name": "snapshot-id", "Values": [self.snapshot_id]}])
        vols = answer.get("Volumes", [])
        return {"volume_id": vols[0]["VolumeId"]} if vols else {}

    def remove(self):
        for snap in self._snapshots():
            self._call("delete the snapshot %s" % snap["SnapshotId"], self.ec2.delete_snapshot, SnapshotId=snap["SnapshotId"])

    def _tags(self, state):
        tags = dict(self.options.get("tags") or {})
        tags.update({"Name": self.snapshot_name, FINGERPRINT_TAG: self.fingerprint, STATE_TAG: state})
        return [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())]

    def start(self, journal):
        params = journal.meta.get("start_params")
        token = journal.meta.get("client_token")
        if params and token:
            try:
                answer = self.ebs.start_snapshot(ClientToken=token, **params)
            except Exception as exc:  # pylint: disable=broad-except
                answer = None
                conflict = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
                if conflict not in ("ConflictException", "ValidationException", "ResourceNotFoundException"):
                    raise self._wrap(exc, "resume the snapshot %s" % journal.meta.get("snapshot_id"))
            if answer and answer.get("Status") == "pending" and answer.get("SnapshotId") == journal.meta.get("snapshot_id"):
                self.snapshot_id = answer["SnapshotId"]
                return
            journal.reset()  # the pending snapshot is gone (timed out, failed): start over
        params = {"VolumeSize": self.volume_gib, "Timeout": int(self.options.get("snapshot_timeout") or 360), "Tags": self._tags("uploading"),
                  "Description": (self.options.get("description") or "Uploaded by citrix_community.ips from %s" % self.image.name)[:255]}
        if self.options.get("kms_key_arn"):
            params.update(Encrypted=True, KmsKeyArn=self.options["kms_key_arn"])
        elif self.options.get("encrypted"):
            params["Encrypted"] = True
        token = str(uuid.uuid4())
        journal.set_meta(start_params=params, client_token=token)
        answer = self._call("start the snapshot (StartSnapshot)", self.ebs.start_snapshot, ClientToken=token, **params)
        if answer.get("BlockSize", BLOCK) != BLOCK:
            raise UploadError("EBS answered BlockSize %s; this uploader writes 524288-byte blocks" % answer.get("BlockSize"))
        self.snapshot_id = answer["SnapshotId"]
        journal.set_meta(snapshot_id=self.snapshot_id)

    def send(self, index, voff, view):
        digest = hashlib.sha256(view).digest()
        # botocore's parameter validation takes bytes, bytearray or a file, never a memoryview: one 512 KiB
        # copy per block (at most `concurrency` alive at once, 8 MiB at the default 16)
        self.ebs.put_snapshot_block(SnapshotId=self.snapshot_id, BlockIndex=index, BlockData=bytes(view), DataLength=BLOCK,
                                    Checksum=base64.b64encode(digest).decode("ascii"), ChecksumAlgorithm="SHA256")
        return BLOCK, 1, digest.hex() if hasattr(digest, "hex") else base64.b16encode(digest).decode("ascii").lower()

    @staticmethod
    def aggregate(done):
        """base64 SHA-256 of the raw block digests in ascending block index (the LINEAR aggregate)."""
        digests = [bytes(bytearray.fromhex(d)) for _i, d in sorted((i, d) for i, d in done.items() if d)]
        return base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode("ascii"), len(digests)

    def finish(self, journal):
        checksum, count = self.aggregate(journal.done)
        self._call("complete the snapshot %s (CompleteSnapshot)" % self.snapshot_id, self.ebs.complete_snapshot,
                   SnapshotId=self.snapshot_id, ChangedBlocksCount=count, Checksum=checksum, ChecksumAlgorithm="SHA256",
                   ChecksumAggregationMethod="LINEAR")

        def look():
            snaps = self._call("read the snapshot %s" % self.snapshot_id, self.ec2.describe_snapshots, SnapshotIds=[self.snapshot_id])
            snap = snaps["Snapshots"][0] if snaps.get("Snapshots") else {}
            if snap.get("State") in (None, "error"):
                raise UploadError("the snapshot %s is %s after CompleteSnapshot; check it in the EC2 console and re-run (overwrite: always "
                                  "starts again)" % (self.snapshot_id, snap.get("State") or "missing"))
            return snap

        snap = self.waiter().until("The snapshot", look, lambda s: s["State"] == "completed",
                                   lambda s: Status(self.snapshot_id, s["State"], _percent(s.get("Progress")), None))
        state = snap["State"]
        self._check_blocks(journal)
        self._call("tag the snapshot %s" % self.snapshot_id, self.ec2.create_tags, Resources=[self.snapshot_id],
                   Tags=[{"Key": STATE_TAG, "Value": "complete"}])
        self.result = {"snapshot_id": self.snapshot_id, "snapshot_state": state, "changed_blocks": count}
        if self.options.get("create_volume"):
            self.result.update(self._create_volume())

    def _create_volume(self):
        o = self.options
        if not o.get("availability_zone"):
            raise UploadError("aws.create_volume needs aws.availability_zone (e.g. %sa)" % self.region)
        kw = {"SnapshotId": self.snapshot_id, "AvailabilityZone": o["availability_zone"], "VolumeType": o.get("volume_type") or "gp3",
              "TagSpecifications": [{"ResourceType": "volume", "Tags": self._tags("complete")}]}
        vol = self._call("create a volume from %s" % self.snapshot_id, self.ec2.create_volume, **kw)
        volume_id = vol["VolumeId"]

        def look():
            found = self._call("read the volume", self.ec2.describe_volumes, VolumeIds=[volume_id])["Volumes"][0]
            if found.get("State") == "error":
                raise UploadError("the volume %s is in error; check it in the EC2 console" % volume_id)
            return found

        self.waiter().until("The volume", look, lambda v: v.get("State") in ("available", "in-use"),
                            lambda v: Status(volume_id, v.get("State"), None, None), first=vol)
        return {"volume_id": volume_id}

    def _held_blocks(self):
        """{block index: block token} of what the snapshot holds (ListSnapshotBlocks, every page)."""
        seen = {}
        kw = {"SnapshotId": self.snapshot_id, "MaxResults": 10000}
        while True:
            page = self._call("list the blocks of the snapshot %s (ListSnapshotBlocks)" % self.snapshot_id, self.ebs.list_snapshot_blocks, **kw)
            for block in page.get("Blocks", []):
                seen[block["BlockIndex"]] = block["BlockToken"]
            if not page.get("NextToken"):
                break
            kw["NextToken"] = page["NextToken"]
        return seen

    def _check_blocks(self, journal):
        """After the snapshot completed: the blocks it holds are exactly those sent (CompleteSnapshot's aggregate checksum
        covered their bytes); {index: token} of them."""
        want = set(i for i, d in journal.done.items() if d)
        seen = self._held_blocks()
        missing, extra = sorted(want - set(seen)), sorted(set(seen) - want)
        if missing or extra:
            first = (missing or extra)[0]
            raise UploadError("the snapshot %s holds %d blocks where %d were sent: %s block %d (bytes %d to %d)%s; run the task again with "
                              "overwrite: always" % (self.snapshot_id, len(seen), len(want), "it lacks" if missing else "it holds an unsent",
                                                     first, first * BLOCK, (first + 1) * BLOCK,
                                                     " and %d more" % (len(missing or extra) - 1) if len(missing or extra) > 1 else ""))
        return seen

    def verify(self, journal):
        """The snapshot's blocks are those sent; read each back and compare its SHA-256 with the journal's."""
        want = dict((i, d) for i, d in journal.done.items() if d)
        seen = self._check_blocks(journal)
        for index in sorted(want):
            got = self._call("read block %d" % index, self.ebs.get_snapshot_block, SnapshotId=self.snapshot_id, BlockIndex=index,
                             BlockToken=seen[index])
            data = got["BlockData"].read()
            if hashlib.sha256(data).hexdigest() != want[index]:
                raise UploadError("verify: block %d of the snapshot %s differs from the source; re-run with overwrite: always"
                                  % (index, self.snapshot_id))
        return {"blocks_checked": len(want), "ok": True}
