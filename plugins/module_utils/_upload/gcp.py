# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GCP target: a Cloud Storage object holding the gzip'd sparse tar of `disk.raw`
(google-cloud-storage), then a Compute Engine image from it (images.insert with rawDisk).

The archive (tarstream.py) is built in parts: `concurrency` workers each take the next part,
fill it from the image (holes are not in the archive at all), deflate it, and upload it as
`<object>.part-NNNNN`; the parts are then composed (at most 32 per compose call) into the object,
the part objects deleted, and the image inserted and waited for. The journal keeps each finished
part's CRC-32 and length, so a killed upload re-sends only the parts that were in flight.
disk.raw is the virtual size rounded up to whole GiB, as Compute Engine requires.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import struct
import threading
import zlib

try:
    import queue
except ImportError:  # pragma: no cover
    import Queue as queue  # type: ignore

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import FINGERPRINT_TAG, MissingLibrary, Target
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import Stats, UploadError, retrier
from ansible_collections.citrix_community.ips.plugins.module_utils._gcp_auth import GcpAuthError, credentials
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import GIB, MIB, ceil_div
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.tarstream import (
    GZIP_HEADER, TarLayout, crc32_combine, deflate_part, gzip_trailer)

PART = 8 * MIB  # 4 workers x (8 MiB part + its deflate output): 16 MiB parts peaked at 330 MiB RSS
COMPOSE_MAX = 32
RETRY_STATUS = (408, 429, 500, 502, 503, 504)


def content_hash(data):
    """The x-goog-hash value of `data`: crc32c=<base64 of the big-endian CRC32C>, or md5=<base64> without google-crc32c."""
    try:
        import google_crc32c
    except ImportError:
        return "md5=" + base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # nosec - a transfer checksum
    return "crc32c=" + base64.b64encode(struct.pack(">I", google_crc32c.value(bytes(data)))).decode("ascii")


class GcpTarget(Target):
    name = "gcp"
    unit_size = PART
    stream = True
    default_concurrency = 4
    journal_outlives_target = True

    wait_interval = 1

    def __init__(self, options, image, fp, timeout=60, tries=8, concurrency=4, wait_timeout=3600):
        super(GcpTarget, self).__init__(options, image, fp, timeout, tries, wait_timeout)
        try:
            from google.auth.transport.requests import AuthorizedSession
        except ImportError as exc:
            raise MissingLibrary("google-auth", "GCP", exc)
        try:
            from google.cloud import storage  # noqa: F401 pylint: disable=unused-import
        except ImportError as exc:
            raise MissingLibrary("google-cloud-storage", "GCP", exc)
        o = options
        self.project = o["project"]
        self.bucket_name = o["bucket"]
        self.image_name = o["image_name"]
        self.object_name = o.get("object") or "%s.tar.gz" % self.image_name
        self.credentials = self._credentials(o)
        self.compute_url = (o.get("compute_endpoint") or "https://compute.googleapis.com").rstrip("/")
        self.storage_url = (o.get("storage_endpoint") or "https://storage.googleapis.com").rstrip("/")
        self.session = AuthorizedSession(self.credentials)
        self.realsize = max(1, ceil_div(image.virtual_size, GIB)) * GIB
        self.level = int(o.get("compression_level") or 6)
        self._layout = None
        self._bucket = None

    def _credentials(self, o):
        try:
            return credentials(o.get("token"), o.get("service_account_key"), o.get("service_account_file"), self.secrets)
        except GcpAuthError as exc:
            raise UploadError(str(exc))

    @property
    def bucket(self):
        if self._bucket is None:
            from google.cloud import storage
            kw = {"project": self.project, "credentials": self.credentials}
            if self.options.get("storage_endpoint"):
                kw["client_options"] = {"api_endpoint": self.options["storage_endpoint"]}
            self._bucket = storage.Client(**kw).bucket(self.bucket_name)
        return self._bucket

    @property
    def layout(self):
        if self._layout is None:
            self._layout = TarLayout(self.image, self.realsize)
        return self._layout

    def object_key(self):
        return "gcp:%s:%s:%s" % (self.project, self.bucket_name, self.object_name)

    def target_size(self):
        return self.realsize

    def describe(self):
        return {"image_name": self.image_name, "bucket": self.bucket_name, "object": self.object_name, "project": self.project,
                "disk_size_gb": self.realsize // GIB}

    def describe_name(self):
        return "image %s" % self.image_name

    def plan_summary(self):
        layout = self.layout
        return {"bytes_to_read": layout.stored, "bytes_to_send_max": layout.size, "archive_bytes": layout.size,
                "parts": ceil_div(layout.size, PART), "target_size": self.realsize, "virtual_size": self.image.virtual_size,
                "allocated_bytes": self.image.allocated_bytes}

    # -- errors --

    def _wrap(self, exc, doing):
        text = self.redact(getattr(exc, "message", None) or exc).strip().splitlines()
        text = text[0] if text else type(exc).__name__
        hint = "check the gcp options and the network path to the endpoint"
        low = text.lower()
        if "refresh the access token" in low:  # google-auth after a 401 on a bare token: it cannot get another
            text = "the access token was refused (wrong or expired)"
            hint = "give a valid gcp.token (or gcp_access_token, GCP_ACCESS_TOKEN), or a service account key instead"
        elif "401" in low or "unauthorized" in low or "invalid_grant" in low or "authentication" in low:
            hint = ("check gcp.service_account_key/service_account_file/token (or gcp_service_account_contents, gcp_service_account_file, "
                    "gcp_access_token; GCP_SERVICE_ACCOUNT_CONTENTS, GCP_SERVICE_ACCOUNT_FILE, GOOGLE_APPLICATION_CREDENTIALS, GCP_ACCESS_TOKEN)")
        elif "404" in low and "bucket" in low:
            hint = "check gcp.bucket (the bucket must exist)"
        return UploadError("GCP refused to %s: %s; %s" % (doing, text, hint))

    def classify(self, exc):
        status = getattr(exc, "code", None) or getattr(getattr(exc, "response", None), "status_code", None)
        if status in RETRY_STATUS:
            return True, status == 429, 0
        if type(exc).__name__ in ("ConnectionError", "ReadTimeout", "Timeout", "ChunkedEncodingError", "TransportError"):
            return True, False, 0
        return False, False, 0

    def _compute(self, method, path, body=None, doing="call Compute Engine", ok404=False):
        url = "%s/compute/v1/projects/%s/%s" % (self.compute_url, self.project, path)

        def once():
            resp = self.session.request(method, url, json=body, timeout=self.timeout)
            if resp.status_code in RETRY_STATUS and (method == "GET" or resp.status_code == 429):
                resp.raise_for_status()  # retried below: the shared retry loop reads its status
            return resp

        def classify(exc):
            # reads are retried on every transient failure; a write only when the service said it did not take it (429)
            retry, throttled, wait = self.classify(exc)
            if method != "GET" and getattr(getattr(exc, "response", None), "status_code", None) != 429:
                return False, False, 0
            return retry, throttled, wait

        try:
            resp = retrier(tries=self.tries).call(classify, once)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._wrap(exc, doing)
        if ok404 and resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            try:
                msg = resp.json()["error"]["message"]
            except Exception:  # pylint: disable=broad-except
                msg = resp.text[:300]
            raise self._wrap(Exception("HTTP %d: %s" % (resp.status_code, msg)), doing)
        return resp.json() if resp.content else {}

    def _wait_op(self, op, doing):
        name = op["name"]
        op = self.waiter().until("The Compute Engine operation", lambda: self._compute("GET", "global/operations/%s" % name, doing=doing),
                                 lambda now: now.get("status") == "DONE", lambda now: Status(name, now.get("status"), now.get("progress"), doing), first=op)
        if op.get("error"):
            errs = "; ".join(e.get("message", "") for e in op["error"].get("errors", []))
            raise UploadError("GCP could not %s: %s" % (doing, errs))
        return op

    # -- the target --

    def exists(self):
        img = self._compute("GET", "global/images/%s" % self.image_name, doing="read the image %s" % self.image_name, ok404=True)
        if img is None:
            return None
        if (img.get("labels") or {}).get(FINGERPRINT_TAG) != self.fingerprint:
            return "different"
        if img.get("status") == "READY":
            self.result = {"image_id": img.get("id"), "image_self_link": img.get("selfLink"), "image_status": "READY",
                           "object": "gs://%s/%s" % (self.bucket_name, self.object_name)}
            return "complete"
        if img.get("status") == "FAILED":
            return "different"
        return "partial"

    def remove(self):
        img = self._compute("GET", "global/images/%s" % self.image_name, doing="read the image", ok404=True)
        if img is not None:
            op = self._compute("DELETE", "global/images/%s" % self.image_name, doing="delete the image %s" % self.image_name)
            self._wait_op(op, "delete the image %s" % self.image_name)

    def start(self, journal):
        if (journal.meta.get("object") not in (None, self.object_name) or journal.meta.get("archive_size") not in (None, self.layout.size)
                or journal.meta.get("part") not in (None, PART)):
            journal.reset()
        journal.set_meta(object=self.object_name, archive_size=self.layout.size, part=PART)

    def _part_name(self, index):
        return "%s.part-%05d" % (self.object_name, index)

    def progress_total(self, journal):
        """(archive bytes, bytes of the parts the journal has done): what the progress counts."""
        size = self.layout.size
        return size, sum(min(PART, size - i * PART) for i in journal.done)

    def send_part(self, i, view, journal, retry):
        """Checksum, deflate and upload archive part `i` (its bytes in `view`), journaled; returns the bytes sent."""
        parts = ceil_div(self.layout.size, PART)
        crc = zlib.crc32(view) & 0xFFFFFFFF
        data = deflate_part(view, last=(i == parts - 1), level=self.level, prefix=GZIP_HEADER if i == 0 else b"")
        journal.start(i)
        retry.call(self.classify, self._put, self._part_name(i), data)
        journal.complete(i, "%08x:%d" % (crc, len(view)))
        return len(data)

    def lane(self, journal, progress, concurrency):
        """This target's share of a fan-out's read-once pass (pipeline.run_lanes)."""
        return PartLane(self, journal, progress, concurrency)

    def transfer(self, journal, progress, concurrency, stop=None):
        """Send every part the journal has not done, reading the image for each: the whole upload of a GCP target
        alone, or in a fan-out the parts its shared pass left (see PartLane)."""
        layout = self.layout
        parts = ceil_div(layout.size, PART)
        todo = queue.Queue()
        for i in range(parts):
            if i not in journal.done:
                todo.put(i)
        stats = Stats()
        stats.units_skipped = len(journal.done)
        retry = retrier(tries=self.tries)
        stop = stop or threading.Event()
        errors = []

        def worker():
            buf = bytearray(PART)
            try:
                while not stop.is_set():
                    try:
                        i = todo.get_nowait()
                    except queue.Empty:
                        return
                    start = i * PART
                    n = min(PART, layout.size - start)
                    view = memoryview(buf)[:n]
                    read = layout.fill(self.image.source, start, view)
                    sent = self.send_part(i, view, journal, retry)
                    stats.add(bytes_read=read, bytes_sent=sent, units_sent=1, requests=1)
                    progress.add(done=n, sent=sent, read=read)
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=worker, name="ips-gcs-%d" % k) for k in range(max(1, concurrency))]
        for t in threads:
            t.daemon = True
            t.start()
        for t in threads:
            t.join()
        if errors:
            err = errors[0]
            raise err if isinstance(err, UploadError) else self._wrap(err, "upload part objects to gs://%s" % self.bucket_name)
        stats.retries = retry.retries
        stats.throttled = retry.throttled
        return stats

    def _put(self, name, data):
        """One simple media upload (uploadType=media) of a part: a single request whose body is `data`
        itself (requests/urllib3 hand the bytearray to sendall), where the client library's resumable
        upload of a 16 MiB part costs a session request and a copy of the part read from a stream.
        x-goog-hash carries the part's CRC32C (MD5 without the C library): Cloud Storage refuses a body that
        does not match it (400), so nothing changed on the way is ever stored."""
        resp = self.session.post("%s/upload/storage/v1/b/%s/o" % (self.storage_url, quote(self.bucket_name, safe="")),
                                 params={"uploadType": "media", "name": name}, data=data,
                                 headers={"Content-Type": "application/octet-stream", "x-goog-hash": content_hash(data)},
                                 timeout=self.timeout)
        if resp.status_code >= 400:
            resp.raise_for_status()

    def _compose(self, names, final):
        """Compose part objects into `final`, 32 at a time (intermediates composed again), deleting the parts."""
        level = 0
        current = list(names)
        made = []
        while len(current) > COMPOSE_MAX:
            nxt = []
            for k in range(0, len(current), COMPOSE_MAX):
                name = "%s.compose-%d-%05d" % (final, level, k // COMPOSE_MAX)
                self.bucket.blob(name).compose([self.bucket.blob(n) for n in current[k:k + COMPOSE_MAX]], timeout=self.timeout)
                nxt.append(name)
                made.append(name)
            current = nxt
            level += 1
        self.bucket.blob(final).compose([self.bucket.blob(n) for n in current], timeout=self.timeout)
        for name in list(names) + made:
            try:
                self.bucket.blob(name).delete(timeout=self.timeout)
            except Exception:  # pylint: disable=broad-except
                pass

    def finish(self, journal):
        layout = self.layout
        parts = ceil_div(layout.size, PART)
        crc, total = 0, 0
        for i in range(parts):
            part_crc, length = journal.done[i].split(":")
            crc = crc32_combine(crc, int(part_crc, 16), int(length))
            total += int(length)
        trailer_name = "%s.trailer" % self.object_name
        try:
            trailer = gzip_trailer(crc, total)
            self._put(trailer_name, trailer)
            self.finish_sent += len(trailer)
            self._compose([self._part_name(i) for i in range(parts)] + [trailer_name], self.object_name)
        except UploadError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise self._wrap(exc, "compose gs://%s/%s" % (self.bucket_name, self.object_name))
        body = {"name": self.image_name, "rawDisk": {"source": "https://storage.googleapis.com/%s/%s" % (self.bucket_name, self.object_name)},
                "labels": dict(self.options.get("labels") or {}, **{FINGERPRINT_TAG: self.fingerprint}),
                "description": (self.options.get("description") or "Uploaded by citrix_community.ips from %s" % self.image.name)[:2048]}
        if self.options.get("family"):
            body["family"] = self.options["family"]
        if self.options.get("guest_os_features"):
            body["guestOsFeatures"] = [{"type": f} for f in self.options["guest_os_features"]]
        if self.options.get("storage_location"):
            body["storageLocations"] = [self.options["storage_location"]]
        op = self._compute("POST", "global/images", body, doing="create the image %s" % self.image_name)
        self._wait_op(op, "create the image %s from gs://%s/%s" % (self.image_name, self.bucket_name, self.object_name))
        img = self._compute("GET", "global/images/%s" % self.image_name, doing="read the image %s" % self.image_name)
        if img.get("status") != "READY":
            raise UploadError("the image %s is %s after images.insert; check it in the console and re-run" % (self.image_name, img.get("status")))
        self.result = {"image_id": img.get("id"), "image_self_link": img.get("selfLink"), "image_status": img.get("status"),
                       "object": "gs://%s/%s" % (self.bucket_name, self.object_name), "archive_size": layout.size}
        if self.options.get("delete_object"):
            try:
                self.bucket.blob(self.object_name).delete(timeout=self.timeout)
            except Exception:  # pylint: disable=broad-except
                pass

    def verify(self, journal):
        """The composed object has the archive's compressed size and the image's disk size matches disk.raw."""
        blob = self.bucket.get_blob(self.object_name, timeout=self.timeout)
        img = self._compute("GET", "global/images/%s" % self.image_name, doing="read the image")
        ok = blob is not None and int(img.get("diskSizeGb") or 0) == self.realsize // GIB
        if not ok:
            raise UploadError("verify: gs://%s/%s or the image %s does not match the upload; re-run with overwrite: always"
                              % (self.bucket_name, self.object_name, self.image_name))
        return {"object_size": blob.size, "disk_size_gb": int(img["diskSizeGb"]), "ok": True}


class PartLane(object):
    """The GCP target's lane in a fan-out (pipeline.run_lanes): archive parts are assembled from the shared reads.

    The reads come in file order, the archive is in virtual order, so a part can need bytes of several reads. Each
    part being assembled holds one of `concurrency + 2` part buffers (its header and hole bytes filled in, the
    image's bytes copied in as the reads pass); a complete part goes to `concurrency` workers (CRC, deflate,
    upload, journal) and its buffer back to the lane. When every buffer holds a part still waiting for bytes, a
    newly touched part is dropped from the shared pass: `transfer` sends it afterwards, reading only that part
    (so memory stays bounded however the file is ordered). Parts with no image bytes (the archive's end) are
    left to `transfer` too. A full lane makes the readers wait: back-pressure, as a unit lane's queue does.
    """

    unit = 512  # how the shared reads are cut does not matter to it (bytes are copied by archive offset)

    def __init__(self, target, journal, progress, concurrency):
        self.target = target
        self.layout = layout = target.layout
        self.journal = journal
        self.progress = progress
        self.concurrency = max(1, int(concurrency))
        self.parts = ceil_div(layout.size, PART)
        self.expect = {}  # part -> image bytes it needs (parts not done that hold any)
        for i in range(self.parts):
            if i not in journal.done:
                n = layout.file_bytes(i * PART, min(layout.size, (i + 1) * PART))
                if n:
                    self.expect[i] = n
        self.limit = self.concurrency + 2
        self.made = 0
        self.free = []
        self.slots = {}  # part -> [buffer, image bytes still expected]
        self.dropped = set()
        self.cond = threading.Condition()
        self.work = queue.Queue()
        self.stats = Stats()
        self.retry = retrier(tries=target.tries)
        self.stop = threading.Event()
        self.errors = []
        self.threads = []

    def memory(self):
        return 0  # copies out of the shared buffers at once: its own part buffers are its bound

    def fail(self, exc):
        self.errors.append(exc)
        self.stop.set()
        with self.cond:
            self.cond.notify_all()

    def _parts_of(self, r):
        t = self.layout.tar_offset(r.file_offset)
        return t, range(t // PART, (t + r.length - 1) // PART + 1)

    def wants(self, r):
        _t, parts = self._parts_of(r)
        return any(i in self.expect and i not in self.dropped for i in parts)

    def _slot(self, i, halt):
        with self.cond:
            while not self.stop.is_set() and not halt.is_set():
                if i in self.slots:
                    return self.slots[i]
                if i in self.dropped:
                    return None
                if self.free or self.made < self.limit:
                    if self.free:
                        buf = self.free.pop()
                    else:
                        buf = bytearray(PART)
                        self.made += 1
                    n = min(PART, self.layout.size - i * PART)
                    self.layout.fill(None, i * PART, memoryview(buf)[:n])
                    slot = self.slots[i] = [buf, self.expect[i]]
                    return slot
                if not any(s[1] == 0 for s in self.slots.values()):
                    self.dropped.add(i)  # every buffer waits for bytes still to come: this part goes to the second pass
                    return None
                self.cond.wait(0.2)  # a complete part is being sent: its buffer comes back
        return None

    def take(self, r, view, buf, pool, halt):  # pylint: disable=unused-argument
        t, _parts = self._parts_of(r)
        pos, end = t, t + r.length
        while pos < end and not self.stop.is_set():
            i = pos // PART
            upto = min(end, (i + 1) * PART)
            a, pos = pos, upto
            if i not in self.expect or i in self.dropped:
                continue
            slot = self._slot(i, halt)
            if slot is None:
                continue
            slot[0][a - i * PART:upto - i * PART] = view[a - t:upto - t]
            with self.cond:
                slot[1] -= upto - a
                ready = slot[1] == 0
            if ready:
                self.work.put(i)

    def _worker(self, halt, done_reading):
        while True:
            try:
                i = self.work.get(timeout=0.2)
            except queue.Empty:
                if self.stop.is_set() or halt.is_set() or (done_reading.is_set() and self.work.empty()):
                    return
                continue
            try:
                if self.stop.is_set() or halt.is_set():
                    continue
                n = min(PART, self.layout.size - i * PART)
                sent = self.target.send_part(i, memoryview(self.slots[i][0])[:n], self.journal, self.retry)
                self.stats.add(bytes_sent=sent, units_sent=1, requests=1)
                self.progress.add(done=n, sent=sent)
            except Exception as exc:  # pylint: disable=broad-except
                self.fail(exc)
            finally:
                with self.cond:
                    slot = self.slots.pop(i, None)
                    if slot is not None:
                        self.free.append(slot[0])
                    self.cond.notify_all()

    def launch(self, pool, halt, done_reading):  # pylint: disable=unused-argument
        self.threads = [threading.Thread(target=self._worker, args=(halt, done_reading), name="ips-gcs-fan-%d" % k)
                        for k in range(self.concurrency)]
        for t in self.threads:
            t.daemon = True
            t.start()

    def join(self, pool):  # pylint: disable=unused-argument
        for t in self.threads:
            t.join()
        with self.cond:
            self.slots.clear()  # parts still waiting for bytes: the second pass sends them
            self.free = []

    def result(self):
        if self.errors:
            err = self.errors[0]
            raise err if isinstance(err, UploadError) else self.target._wrap(err, "upload part objects to gs://%s" % self.target.bucket_name)
        self.stats.retries = self.retry.retries
        self.stats.throttled = self.retry.throttled
        return self.stats
