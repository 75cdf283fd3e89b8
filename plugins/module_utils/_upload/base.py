# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface every upload target implements, and the driver that runs it.

    target.object_key()          the target object (disk, snapshot, image) whatever the source: the lock
    target.key()                 object_key + source fingerprint: the journal
    target.describe()            ids and sizes for check mode and results (no network)
    target.exists()              "complete" (same source, tagged), "partial" (resumable), "different", None
    target.start(journal)        create the target object, or resume the one the journal names
    target.send(i, voff, view)   write one unit or piece -> (bytes sent, requests, digest or None)
    target.classify(exc)         (retryable, throttled, wait seconds)
    target.finish(journal)       seal it (footer + revoke, CompleteSnapshot, images.insert) and tag it
    target.verify(journal)       read back what was sent and compare digests
    target.remove()              delete an existing target (overwrite)
    target.describe_name()       "disk X in RG": the target as errors and the lock name it
    target.target_size()         bytes of the target object (check mode, results)

A target waits for cloud-side operations (disk creation, snapshot completion, images.insert)
only through `self.waiter(what)`: the shared waiter, bounded by the module's `wait_timeout`.
Errors it raises name no secret: `self.redact(text)` masks `self.secrets` and SAS signatures.

Unit targets (Azure, AWS) run through pipeline.run_units; a stream target (GCP) implements
`transfer(image, journal, progress, stop)` itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import redact
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import Journal
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.lock import UploadLock
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import RateLimit, UploadError, retrier, run_units
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import Plan, plan_summary
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.watchdog import Watchdog
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Waiter

FINGERPRINT_TAG = "ips-source-fingerprint"
STATE_TAG = "ips-upload-state"


def fingerprint(identity):
    """A short, label-safe digest of DiskImage.identity (lowercase hex, fits GCP labels and tags)."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]


class MissingLibrary(UploadError):
    """A cloud SDK is not installed; `library` names the pip package."""

    def __init__(self, library, target, exc=None):
        self.library = library
        self.exception = exc
        super(MissingLibrary, self).__init__("uploading to %s needs the Python package %s on the host that runs the task; install it "
                                             "(pip install %s) in the task's Python (or execution environment)" % (target, library, library))


class Target(object):
    name = None
    unit_size = 0
    whole_units = True
    stream = False
    default_concurrency = 8
    # AWS: a pending snapshot cannot be found by tags, so only the journal knows it; others: no
    # target object means nothing to resume
    journal_outlives_target = False

    # seconds between two looks at a cloud-side operation
    wait_interval = 2

    def __init__(self, options, image, fp, timeout=60, tries=8, wait_timeout=3600):
        self.options = options
        self.image = image
        self.fingerprint = fp
        self.timeout = timeout
        self.tries = tries
        self.wait_timeout = wait_timeout
        self.secrets = []
        self.result = {}
        self.finish_sent = 0  # bytes finish() sends itself (the Azure footer, the gzip trailer): part of bytes_sent

    def waiter(self):
        """The shared waiter for one cloud-side operation, bounded by the module's wait_timeout."""
        return Waiter(self.wait_timeout, self.wait_interval, option="wait_timeout",
                      resume="run the task again: it finds the %s and resumes the upload" % self.describe_name())

    def redact(self, text):
        """`text` with this target's secrets and any SAS signature masked (the one redactor of `_errors`)."""
        return redact(text, self.secrets)

    def key(self):
        return "%s:%s" % (self.object_key(), self.fingerprint)

    # -- to implement: every target provides these (the engine and run_upload call them) --
    def object_key(self):
        raise NotImplementedError

    def describe_name(self):
        raise NotImplementedError

    def target_size(self):
        raise NotImplementedError

    def describe(self):
        return {}

    def exists(self):
        raise NotImplementedError

    def start(self, journal):
        raise NotImplementedError

    def send(self, index, voff, view):
        raise NotImplementedError

    def classify(self, exc):
        return False, False, 0

    def send_error(self, exc):
        """The UploadError a failed send becomes once it is refused or out of retries: never the SDK's raw text."""
        wrap = getattr(self, "_wrap", None)
        if wrap is not None:
            return wrap(exc, "write the image data to the %s" % self.describe_name())
        first = self.redact(str(exc)).strip().splitlines()
        return UploadError("writing the image data to the %s failed: %s; run the task again (it resumes)"
                           % (self.describe_name(), first[0] if first else type(exc).__name__))

    def finish(self, journal):
        raise NotImplementedError

    def verify(self, journal):
        return {}

    def remove(self):
        raise NotImplementedError

    # stream targets (stream = True) send the bytes themselves instead of the pipeline:
    def transfer(self, journal, progress, concurrency, stop=None):
        raise NotImplementedError

    def plan_summary(self):
        raise NotImplementedError


def run_upload(target, check_mode=False, journal_dir=None, **options):
    """Decide, then upload: the module's whole flow below the option parsing. Returns the result dict.
    A real run holds the target object's lock from its first look at the target to the end."""
    if check_mode:
        result = _decide_and_upload(target, check_mode=True, journal_dir=journal_dir, **options)
        # a background upload to this object, as the lock shows it: a re-run attaches to a live one only
        result["worker"] = UploadLock(journal_dir, target.object_key()).holder()
        return result
    lock = UploadLock(journal_dir, target.object_key()).acquire(target.describe_name())
    try:
        return _decide_and_upload(target, check_mode=check_mode, journal_dir=journal_dir, **options)
    finally:
        if lock is not None:
            lock.release()


def _decide_and_upload(target, overwrite="different", check_mode=False, journal_dir=None, progress_file=None, concurrency=None,
                       verify=False, read_size=8 * 1024 * 1024, stop=None, rate_limit=None):
    image = target.image
    started = time.monotonic()
    result = {"target": target.name, "fingerprint": target.fingerprint, "virtual_size": image.virtual_size,
              "allocated_bytes": image.allocated_bytes, "target_size": target.target_size()}
    result.update(target.describe())
    state = target.exists()
    result["existing"] = state
    if state == "complete" and overwrite != "always":
        result.update(changed=False, bytes_read=0, bytes_sent=0, resumed=False)
        result.update(target.result)
        return result
    if state in ("different", "complete") or (state == "partial" and overwrite == "always"):
        if overwrite == "never" and state == "different":
            raise UploadError("the %s target %s already exists and holds another image (its source fingerprint differs); set "
                              "overwrite: different (replace it) or choose another name" % (target.name, target.describe_name()))
        if check_mode:
            result.update(changed=True, action="replace", plan=_summary(target))
            return result
        target.remove()
        state = "removed"
    if check_mode:
        result.update(changed=True, action="resume" if state == "partial" else "create", plan=_summary(target))
        return result
    journal = Journal(journal_dir, target.key(), image.identity, target.unit_size)
    if state == "removed" or (state is None and not target.journal_outlives_target):
        journal.reset()
    progress = Progress(progress_file, total=0, target=target.name, rate_limit=rate_limit)
    watchdog = Watchdog(progress).start() if progress.path else None
    try:
        target.start(journal)
        if target.stream:
            progress.set_phase("upload")
            stats = target.transfer(journal, progress, concurrency or target.default_concurrency, stop)
        else:
            plan = Plan(image, target.unit_size, read_size=read_size, done=set(journal.done))
            left = sum(plan.coverage.values())
            # a resumed upload: the whole image's stored bytes, those the journal has done already counted as done
            whole = sum(Plan(image, target.unit_size, read_size=read_size).coverage.values()) if journal.done else left
            progress.total = whole
            if whole > left:
                progress.resume(whole - left)
            progress.set_phase("upload")  # with its total known: never "0.0 of 0.0 MiB"
            retry = retrier(tries=target.tries)
            stats = run_units(image, plan, target, journal, progress, concurrency=concurrency or target.default_concurrency,
                              retry=retry, stop=stop, rate=RateLimit(rate_limit) if rate_limit else None)
            stats.units_skipped = len(plan.skipped_units)
        progress.set_phase("finish")
        target.finish(journal)
        if verify:
            progress.set_phase("verify")
            result["verify"] = target.verify(journal)
        progress.set_phase("done")
    except BaseException:
        journal.close()
        raise
    finally:
        if watchdog is not None:
            watchdog.stop()
        progress.close()
    resumed = journal.resumed
    journal.remove()
    duration = time.monotonic() - started
    result.update(target.result)
    result.update(changed=True, resumed=resumed, bytes_read=stats.bytes_read, bytes_sent=stats.bytes_sent + target.finish_sent,
                  units_sent=stats.units_sent, units_zero=stats.units_zero, units_skipped=getattr(stats, "units_skipped", 0),
                  requests=stats.requests, retries=getattr(stats, "retries", 0), throttled=getattr(stats, "throttled", 0),
                  duration=round(duration, 3),
                  throughput_mib_s=round(stats.bytes_read / 1048576.0 / duration, 2) if duration > 0 else 0.0)
    return result


def _summary(target):
    if target.stream:
        return target.plan_summary()
    return plan_summary(target.image, target.unit_size, target.target_size())
