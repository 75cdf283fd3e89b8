"""The real clouds' per-object rate caps, for the planes: off by default, switched on per plane through
`PUT /_lab/config` (or `ips-lab caps`); docs/lab.md, "Per-object caps".

The lab's own copy of the numbers (never the collection's), with where each comes from:

- Azure managed disk, direct upload: the upload runs "at the throughput of the equivalent Standard HDD"
  (MicrosoftDocs/azure-compute-docs, articles/virtual-machines/linux/disks-upload-vhd-to-managed-disk-cli.md);
  the Standard HDD sizes (MicrosoftDocs/azure-docs, includes/disk-storage-standard-hdd-sizes.md) give S4 to S50
  (32 GiB to 4 TiB) "up to 60 MB/s", S60 300 MB/s, S70 and S80 500 MB/s. The tier follows the disk's size
  (uploadSizeBytes rounded up to whole GiB; reference upload-perf.md section 7.1 marks this as to verify).
  Beyond it Azure Storage answers 503 ServerBusy (learn.microsoft.com, "Scalability and performance targets for
  standard storage accounts": 503 Server Busy or 500 Operation Timeout when a partition is over its limit).
- EBS direct: PutSnapshotBlock at most 1,000 requests per second per snapshot (Service Quotas L-1774F84A, not
  adjustable; docs.aws.amazon.com/ebs/latest/userguide/ebsapi-performance.html). Beyond it
  RequestThrottledException, HTTP 400, Reason RESOURCE_LEVEL_THROTTLE (botocore's ebs service model).
- Cloud Storage: one write per second to the same object name, object metadata updates included
  (cloud.google.com/storage/quotas). Beyond it 429 with reason rateLimitExceeded
  (cloud.google.com/storage/docs/json_api/v1/status-codes, 429 Too Many Requests).

A throttled request is refused before the plane reads its body, with `Retry-After` (whole seconds, as HTTP
writes it) set to when the bucket will hold enough for it. Azure Storage's answer is documented without the
header; the lab sends it (flagged inferred in docs/lab.md) so that a client that honours it can be counted.
"""

import math
import threading
import time

MB = 1000 * 1000
GIB = 1024 * 1024 * 1024

# (largest size in GiB, Standard HDD tier, MB/s of a direct upload)
AZURE_HDD_TIERS = ((32, "S4", 60), (64, "S6", 60), (128, "S10", 60), (256, "S15", 60), (512, "S20", 60), (1024, "S30", 60),
                   (2048, "S40", 60), (4096, "S50", 60), (8192, "S60", 300), (16384, "S70", 500), (32767, "S80", 500))
EBS_BLOCKS_PER_SECOND = 1000
GCS_WRITES_PER_OBJECT_PER_SECOND = 1

OFF = 0
REAL = "real"


def azure_tier(size_bytes):
    """(tier name, bytes per second) of a disk of `size_bytes` (its uploadSizeBytes)."""
    gib = int(math.ceil(size_bytes / float(GIB)))
    for largest, tier, mb_s in AZURE_HDD_TIERS:
        if gib <= largest:
            return tier, mb_s * MB
    return AZURE_HDD_TIERS[-1][1], AZURE_HDD_TIERS[-1][2] * MB


def valid_cap(value):
    """A cap setting: 0 (off, the default), "real" (the cloud's own number) or a positive number (units per second)."""
    if value == REAL:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


CAP_WANTS = '0 (off), "real" (the cloud\'s own limit) or a positive number of units per second'


def rate_of(setting, real):
    """Units per second a cap setting stands for: None when off."""
    if setting == REAL:
        return float(real)
    if not setting:
        return None
    return float(setting)


class Buckets(object):
    """One token bucket per object (a disk, a snapshot, an object name), refilled at the object's rate.

    `take(key, rate, cost)` admits a request of `cost` units (bytes, blocks, writes) and returns 0, or refuses it
    and returns the seconds until the bucket holds enough. A bucket holds one second of its rate, and at least one
    request's cost, so the largest request the service allows always gets in and a burst never exceeds a second's
    worth. Nothing sleeps or loops: the time since the last request refills the bucket.
    """

    def __init__(self, clock=time.monotonic, keep=4096):
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets = {}  # key -> [tokens, last time, rate]
        self._keep = keep

    def take(self, key, rate, cost):
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            capacity = max(float(rate), float(cost))
            if bucket is None or bucket[2] != rate:
                if len(self._buckets) >= self._keep:
                    self._buckets.clear()  # idle buckets refill to full anyway: forgetting them changes nothing
                bucket = self._buckets[key] = [capacity, now, rate]
            tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= cost:
                bucket[0] = tokens - cost
                return 0.0
            bucket[0] = tokens
            return (cost - tokens) / rate

    def reset(self):
        with self._lock:
            self._buckets.clear()


def retry_after(seconds):
    """The Retry-After value for a wait of `seconds`: whole seconds, at least 1 (HTTP's delay-seconds)."""
    return str(max(1, int(math.ceil(seconds))))
