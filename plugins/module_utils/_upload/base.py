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

Unit targets (Azure, AWS) are lanes of pipeline.run_lanes (UnitLane); a stream target (GCP) implements
`transfer(journal, progress, concurrency, stop)` itself (reading what it sends), `progress_total(journal)`, and
`lane(journal, progress, concurrency)`: its lane in a fan-out's shared pass, after which `transfer` sends what the
lane left. run_upload drives one target or several (fan-out: one read of the source feeds every target).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import threading
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError, redact
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import Journal
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.lock import UploadLock
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import RateLimit, UnitLane, UploadError, retrier, run_lanes
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
    paces_requests = False  # True: send(..., pace) charges rate_limit per request with the bytes it sends
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
        self.warnings = []  # what the user should know of how the upload went (returned as the task's warnings)

    def waiter(self, pause=None):
        """The shared waiter for one cloud-side operation, bounded by the module's wait_timeout. `pause(seconds)`, when
        given, replaces its sleep between two looks: one that returns early once the operation is over (an SDK poller's
        `wait`) ends the wait then, not at the next whole interval."""
        kw = {"sleep": pause} if pause is not None else {}
        return Waiter(self.wait_timeout, self.wait_interval, option="wait_timeout",
                      resume="run the task again: it finds the %s and resumes the upload" % self.describe_name(), **kw)

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


def run_upload(targets, check_mode=False, journal_dir=None, **options):
    """Decide, then upload to one target or fan out to several: the module's whole flow below the option parsing.

    `targets` is one Target (the result is that target's dict, a failure raises) or a list of them (one per cloud;
    the result is {"targets": {name: result}, "failed": [names], totals}; a target that fails is reported in its
    entry and the others go on). Both are the same code: one target is a fan-out of one.
    A real run holds every target object's lock from its first look at the target to the end."""
    many = isinstance(targets, (list, tuple))
    targets = list(targets) if many else [targets]
    locks = []
    try:
        if not check_mode:
            for target in targets:
                locks.append(UploadLock(journal_dir, target.object_key()).acquire(target.describe_name()))
        results = _fan_out(targets, check_mode=check_mode, journal_dir=journal_dir, raise_first=not many, **options)
    finally:
        for lock in locks:
            if lock is not None:
                lock.release()
    if check_mode:
        for target, result in zip(targets, results):
            # a background upload to this object, as the lock shows it: a re-run attaches to a live one only
            result["worker"] = UploadLock(journal_dir, target.object_key()).holder()
    if not many:
        return results[0]
    return _totals(targets, results)


def _totals(targets, results):
    out = {"targets": dict((t.name, r) for t, r in zip(targets, results)),
           "failed": [t.name for t, r in zip(targets, results) if r.get("failed")]}
    # from the source, not from a result: a target that failed early has none of these in its result
    image = targets[0].image
    out.update(changed=any(r.get("changed") for r in results), fingerprint=targets[0].fingerprint, virtual_size=image.virtual_size,
               allocated_bytes=image.allocated_bytes)
    out["bytes_read"] = max([r.get("bytes_read_shared", 0) for r in results] or [0]) + sum(r.get("bytes_read_own", 0) for r in results)
    out["bytes_sent"] = sum(r.get("bytes_sent", 0) for r in results)
    durations = [r.get("duration", 0) for r in results]
    out["duration"] = max(durations or [0])
    return out


def _decide(target, overwrite, check_mode):
    """(the result so far, whether to upload, the target's state: None, "partial" or "removed")."""
    image = target.image
    result = {"target": target.name, "fingerprint": target.fingerprint, "virtual_size": image.virtual_size,
              "allocated_bytes": image.allocated_bytes, "target_size": target.target_size()}
    result.update(target.describe())
    state = target.exists()
    result["existing"] = state
    if state == "complete" and overwrite != "always":
        result.update(changed=False, bytes_read=0, bytes_sent=0, resumed=False)
        result.update(target.result)
        return result, False, state
    if state in ("different", "complete") or (state == "partial" and overwrite == "always"):
        if overwrite == "never" and state == "different":
            raise UploadError("the %s target %s already exists and holds another image (its source fingerprint differs); set "
                              "overwrite: different (replace it) or choose another name" % (target.name, target.describe_name()))
        if check_mode:
            result.update(changed=True, action="replace", plan=_summary(target))
            return result, False, state
        target.remove()
        state = "removed"
    if check_mode:
        result.update(changed=True, action="resume" if state == "partial" else "create", plan=_summary(target))
        return result, False, state
    return result, True, state


class _Job(object):
    """One target's upload inside a fan-out: its result so far, journal, lane and stats."""

    def __init__(self, target, result):
        self.target = target
        self.result = result
        self.journal = None
        self.lane = None
        self.stats = None
        self.read_shared = 0
        self.error = None
        self.progress = (0, 0)  # (bytes its upload counts, those its journal has done already)


def _fan_out(targets, overwrite="different", check_mode=False, journal_dir=None, progress_file=None, concurrency=None,
             verify=False, read_size=8 * 1024 * 1024, stop=None, rate_limit=None, raise_first=True):
    """Every target: decide; then one read-once pass feeds every target that uploads (pipeline.run_lanes), then
    each target's own second pass if it has one (GCP parts the shared pass left), then finish and verify each.
    A target's failure ends that target only (raise_first: the first failure is raised, the single-target shape)."""
    image = targets[0].image
    started = time.monotonic()

    def failed(job, exc):
        if raise_first:
            raise exc
        if not isinstance(exc, IPSError):
            exc = job.target.send_error(exc)
        job.error = exc
        job.result.update(failed=True, changed=job.result.get("changed", False), msg=job.target.redact(str(exc)))
        if job.journal is not None:
            job.journal.close()

    def look(job):
        """Decide for one target (its look-ups, a replaced object's removal) and open its journal."""
        target = job.target
        job.result, upload, state = _decide(target, overwrite, check_mode)
        if not upload:
            job.target = None  # nothing to upload
            return
        job.journal = Journal(journal_dir, target.key(), image.identity, target.unit_size)
        if state == "removed" or (state is None and not target.journal_outlives_target):
            job.journal.reset()

    def begin(job):
        """Create or resume one target's object (Azure's disk and write SAS, the EBS snapshot), and its share of the progress."""
        job.target.start(job.journal)
        job.progress = _progress_total(job.target, job.journal, read_size)

    jobs = [_Job(target, {"target": target.name}) for target in targets]
    # the targets' control-plane calls overlap, as their finishes do: a fan-out starts as soon as its slowest target
    for job, exc in _each(jobs, look):
        failed(job, exc)
    live = [j for j in jobs if j.target is not None and j.error is None]
    if not live:
        return [j.result for j in jobs]
    progress = Progress(progress_file, total=0, target="+".join(j.target.name for j in live), rate_limit=rate_limit)
    watchdog = Watchdog(progress).start() if progress.path else None
    try:
        for job, exc in _each(live, begin):
            failed(job, exc)
            live.remove(job)
        total = sum(job.progress[0] for job in live)
        resumed = sum(job.progress[1] for job in live)
        progress.total = total
        if resumed:
            progress.resume(resumed)
        progress.set_phase("upload")  # with its total known: never "0.0 of 0.0 MiB"
        # the lanes of the shared pass: every unit target; a stream target (GCP) only beside another target
        for job in live:
            conc = concurrency or job.target.default_concurrency
            if not job.target.stream:
                plan = Plan(image, job.target.unit_size, read_size=read_size, done=set(job.journal.done))
                job.lane = UnitLane(image, plan, job.target, job.journal, progress, concurrency=conc,
                                    retry=retrier(tries=job.target.tries), rate=RateLimit(rate_limit) if rate_limit else None)
            elif len(live) > 1:
                job.lane = job.target.lane(job.journal, progress, conc)
        lanes = [j.lane for j in live if j.lane is not None]
        if lanes:
            unit = max(lane.unit for lane in lanes)
            reads = Plan(image, unit, read_size=read_size).reads
            bytes_read = run_lanes(image, reads, lanes, max(read_size, unit), stop=stop)
        for job in list(live):
            try:
                if job.lane is not None:
                    job.stats = job.lane.result()
                    job.read_shared = bytes_read
                    job.stats.bytes_read = 0
                if job.target.stream:
                    more = job.target.transfer(job.journal, progress, concurrency or job.target.default_concurrency, stop)
                    job.stats = _merged(job.stats, more)
            except Exception as exc:  # pylint: disable=broad-except
                failed(job, exc)
                live.remove(job)
        progress.set_phase("finish")
        for job, exc in _each(live, _seal):
            failed(job, exc)
            live.remove(job)
        if verify and live:
            progress.set_phase("verify")
            for job, exc in _each(live, _check):
                failed(job, exc)
                live.remove(job)
        progress.set_phase("done" if len(live) == len([j for j in jobs if j.target is not None]) else "failed")
    except BaseException:
        for job in jobs:
            if job.journal is not None:
                job.journal.close()
        raise
    finally:
        if watchdog is not None:
            watchdog.stop()
        progress.close()
    duration = time.monotonic() - started
    for job in live:
        target, stats, journal = job.target, job.stats, job.journal
        resumed = journal.resumed
        journal.remove()
        read = job.read_shared + stats.bytes_read
        job.result.update(target.result)
        job.result.update(changed=True, resumed=resumed, bytes_read=read, bytes_sent=stats.bytes_sent + target.finish_sent,
                          units_sent=stats.units_sent, units_zero=stats.units_zero, units_skipped=getattr(stats, "units_skipped", 0),
                          requests=stats.requests, retries=getattr(stats, "retries", 0), throttled=getattr(stats, "throttled", 0),
                          duration=round(duration, 3),
                          throughput_mib_s=round(read / 1048576.0 / duration, 2) if duration > 0 else 0.0)
        if len(jobs) > 1:
            job.result.update(bytes_read_shared=job.read_shared, bytes_read_own=stats.bytes_read)
    return [j.result for j in jobs]


def _seal(job):
    job.target.finish(job.journal)


def _check(job):
    job.result["verify"] = job.target.verify(job.journal)


def _each(jobs, func):
    """func(job) for every job at once, one thread each (a fan-out's targets look themselves up, create and seal their
    objects in parallel: Azure's disk creation and revoke, the EBS snapshot's start and completion, GCP's compose and
    image insert overlap, so a fan-out waits for its slowest target, not for their sum); one job runs in the caller's
    thread. Returns [(job, exception)] of those that failed, in the jobs' order."""
    errors = []

    def run(job):
        try:
            func(job)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append((job, exc))

    if len(jobs) == 1:
        run(jobs[0])
        return errors
    threads = [threading.Thread(target=run, args=(job,), name="ips-target-%s" % job.target.name) for job in jobs]
    for t in threads:
        t.daemon = True
        t.start()
    for t in threads:
        t.join()
    return sorted(errors, key=lambda item: jobs.index(item[0]))


def _progress_total(target, journal, read_size):
    """(bytes the target's upload counts, bytes its journal has done already)."""
    if target.stream:
        return target.progress_total(journal)
    left = sum(Plan(target.image, target.unit_size, read_size=read_size, done=set(journal.done)).coverage.values())
    whole = sum(Plan(target.image, target.unit_size, read_size=read_size).coverage.values()) if journal.done else left
    return whole, whole - left


def _merged(first, second):
    """Stats of a lane and of its target's second pass, added up."""
    if first is None:
        return second
    for key in ("bytes_read", "bytes_sent", "units_sent", "units_zero", "requests", "retries", "throttled"):
        setattr(first, key, getattr(first, key, 0) + getattr(second, key, 0))
    first.units_skipped = getattr(second, "units_skipped", 0)
    return first


def _summary(target):
    if target.stream:
        return target.plan_summary()
    return plan_summary(target.image, target.unit_size, target.target_size())
