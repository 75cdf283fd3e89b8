# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GCP target: a Cloud Storage object holding the gzip'd sparse tar of `disk.raw`
(google-cloud-storage), then a Compute Engine image from it (images.insert with rawDisk).

The archive (tarstream.py) is built in parts of the image's stored bytes: `concurrency` workers each take
the next part, fill it from the image (holes are not in the archive at all), keep its non-zero 512-byte runs
(zero runs inside allocated blocks go into the sparse map, not the archive), deflate them, and upload them as
`<object>.part-NNNNN` (an all-zero part sends nothing). Then the head (gzip header and the tar header with the
whole sparse map) and the tail (tar padding, gzip CRC-32 and length) are uploaded, everything composed (at most
32 per compose call) into the object, the part objects deleted, the object's crc32c (which Cloud Storage keeps
for a composite object) checked against the one combined from what was sent, and the image inserted and waited
for. The journal keeps each finished part's CRC-32, length, crc32c and sparse entries, so a killed upload
re-sends only the parts that were in flight. disk.raw is the virtual size rounded up to whole GiB, as Compute
Engine requires.
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
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import Stats, UploadError, retrier, retry_after
from ansible_collections.citrix_community.ips.plugins.module_utils._gcp_auth import GcpAuthError, credentials
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import GIB, MIB, ceil_div
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.tarstream import (
    CRC32C, GZIP_HEADER, StoredStream, archive_head, archive_tail, crc32_combine, decode_entries, deflate_part, encode_entries,
    gzip_trailer, sparse_part)
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.zeros import nonzero_runs

PART = 8 * MIB  # 4 workers x (8 MiB part + its deflate output): 16 MiB parts peaked at 330 MiB RSS
# part workers of the GCP lane in a fan-out: the shared pass goes at the slowest target's pace, and there 4 workers idled
# 91-97 % of the capped fan-out (bench/profile_upload.py); each worker fewer frees a part buffer and its deflate output
LANE_WORKERS = 2
COMPOSE_MAX = 32
CRC_STEP = 1024 * 1024
RETRY_STATUS = (408, 429, 500, 502, 503, 504)
LAYOUT = "sparse-512"  # the journal's part layout: parts of stored bytes, zero runs in the sparse map


def crc32c(data):
    """The CRC32C of `data` (google-crc32c), or None without the library. The library takes read-only bytes only: a
    1 MiB copy at a time, not one of the whole part (4 workers x 8 MiB at once before)."""
    try:
        import google_crc32c
    except ImportError:
        return None
    view, crc = memoryview(data), 0
    for pos in range(0, len(view), CRC_STEP):
        crc = google_crc32c.extend(crc, bytes(view[pos:pos + CRC_STEP]))
    return crc


def content_hash(data, crc=None):
    """The x-goog-hash value of `data`: crc32c=<base64 of the big-endian CRC32C>, or md5=<base64> without google-crc32c."""
    crc = crc32c(data) if crc is None else crc
    if crc is None:
        return "md5=" + base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # nosec - a transfer checksum
    return "crc32c=" + base64.b64encode(struct.pack(">I", crc)).decode("ascii")


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
        self._stream = None
        self._bucket = None
        self._groups = {}  # group of COMPOSE_MAX parts -> the object its parts were composed into during the upload
        self._group_of = {}  # part object -> its group's object
        self._group_lock = threading.Lock()

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
    def stored(self):
        if self._stream is None:
            self._stream = StoredStream(self.image, self.realsize, PART)
        return self._stream

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
        stream = self.stored
        # at most: every stored byte, the header with one entry per stored extent, the padding
        head = len(archive_head([(voff, length) for voff, length, _f in stream.runs], self.realsize))
        most = head + stream.stored + len(archive_tail(stream.stored, head))
        return {"bytes_to_read": stream.stored, "bytes_to_send_max": most, "archive_bytes_max": most,
                "parts": stream.parts, "target_size": self.realsize, "virtual_size": self.image.virtual_size,
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
            return True, status == 429, retry_after(exc)
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
        meta = journal.meta
        if meta and (meta.get("object") != self.object_name or meta.get("stored") != self.stored.stored or meta.get("part") != PART
                     or meta.get("layout") != LAYOUT):
            journal.reset()  # another object, or a journal of the old layout (parts of archive bytes): start afresh
        composed = journal.meta.get("composed")
        if composed:
            # an earlier run composed the object and deleted its parts: only that object can be resumed from
            held = self._held()
            if held != (composed.get("size"), composed.get("crc32c")):
                where = "gs://%s/%s" % (self.bucket_name, self.object_name)
                self.warnings.append("%s, which an earlier run composed (deleting its parts), %s: the upload started afresh"
                                     % (where, "is gone" if held is None else "holds other bytes (size %s, crc32c %s)" % held))
                journal.reset()
        journal.set_meta(object=self.object_name, stored=self.stored.stored, part=PART, layout=LAYOUT)

    def _held(self):
        """(size, crc32c) of the object as Cloud Storage holds it, or None when it is not there."""
        try:
            blob = self.bucket.get_blob(self.object_name, timeout=self.timeout)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._wrap(exc, "read gs://%s/%s" % (self.bucket_name, self.object_name))
        return None if blob is None else (blob.size, blob.crc32c)

    def _part_name(self, index):
        return "%s.part-%05d" % (self.object_name, index)

    def progress_total(self, journal):
        """(the image's stored bytes, those of the parts the journal has done): what the progress counts."""
        stream = self.stored
        return stream.stored, sum(stream.part_length(i) for i in journal.done if i < stream.parts)

    def send_part(self, i, buf, journal, retry):
        """Part `i` (its stored bytes in `buf`): keep its non-zero runs, deflate and upload them, journal it.
        Returns (bytes sent, whether it was all zeros: no part object at all)."""
        entries, chunks = sparse_part([(voff, view) for voff, _foff, view in self.stored.pieces(i, buf)], nonzero_runs)
        crc, length = 0, 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            length += len(chunk)
        journal.start(i)
        if length:
            data = deflate_part(chunks, last=False, level=self.level)
            ccrc = crc32c(data)
            retry.call(self.classify, self._put, self._part_name(i), data, ccrc)
            sent = len(data)
        else:
            ccrc, sent = 0, 0
        # CRC-32 and length of the tar bytes; crc32c and length of the object; the sparse entries
        journal.complete(i, "%08x:%d:%s:%d:%s" % (crc & 0xFFFFFFFF, length, "-" if ccrc is None else "%08x" % ccrc, sent,
                                                  encode_entries(entries) or "-"))
        self._compose_group(i // COMPOSE_MAX, journal)
        return sent, not length

    def _compose_group(self, g, journal):
        """When every part of group `g` (COMPOSE_MAX parts in a row) is done, compose its part objects into one object
        at once, while the upload goes on: finish then composes the groups instead of every part, so the compose a
        fan-out waits for at its end is one level shorter. Only an optimisation: a group that fails here (or that a
        killed run composed) is composed from its parts in finish, as before; the parts are deleted in finish."""
        lo, hi = g * COMPOSE_MAX, min((g + 1) * COMPOSE_MAX, self.stored.parts)
        with self._group_lock:
            if g in self._groups or any(j not in journal.done for j in range(lo, hi)):
                return
            self._groups[g] = None  # this worker composes it
        members = [self._part_name(j) for j in range(lo, hi) if int(journal.done[j].split(":")[3])]
        if len(members) < 2:
            return
        name = "%s.group-%05d" % (self.object_name, g)
        try:
            retrier(tries=self.tries).call(self.classify, self.bucket.blob(name).compose, [self.bucket.blob(n) for n in members],
                                           timeout=self.timeout)
        except Exception:  # pylint: disable=broad-except
            return
        with self._group_lock:
            self._groups[g] = name
            for member in members:
                self._group_of[member] = name

    def lane(self, journal, progress, concurrency):
        """This target's share of a fan-out's read-once pass (pipeline.run_lanes), with at most LANE_WORKERS part workers
        (and so LANE_WORKERS + 2 part buffers): what the fan-out's pace needs, whatever the concurrency of its other targets."""
        return PartLane(self, journal, progress, min(max(1, int(concurrency)), LANE_WORKERS))

    def transfer(self, journal, progress, concurrency, stop=None):
        """Send every part the journal has not done, reading the image for each: the whole upload of a GCP target
        alone, or in a fan-out the parts its shared pass left (see PartLane)."""
        stream = self.stored
        todo = queue.Queue()
        for i in range(stream.parts):
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
                    n = stream.part_length(i)
                    stream.fill(self.image.source, i, buf)
                    sent, zero = self.send_part(i, buf, journal, retry)
                    stats.add(bytes_read=n, bytes_sent=sent, units_sent=0 if zero else 1, units_zero=1 if zero else 0,
                              requests=0 if zero else 1)
                    progress.add(done=n, sent=sent, read=n)
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

    def _put(self, name, data, crc=None):
        """One simple media upload (uploadType=media) of a part: a single request whose body is `data`
        itself (requests/urllib3 hand the bytearray to sendall), where the client library's resumable
        upload of a 16 MiB part costs a session request and a copy of the part read from a stream.
        x-goog-hash carries the part's CRC32C (MD5 without the C library): Cloud Storage refuses a body that
        does not match it (400), so nothing changed on the way is ever stored."""
        resp = self.session.post("%s/upload/storage/v1/b/%s/o" % (self.storage_url, quote(self.bucket_name, safe="")),
                                 params={"uploadType": "media", "name": name}, data=data,
                                 headers={"Content-Type": "application/octet-stream", "x-goog-hash": content_hash(data, crc)},
                                 timeout=self.timeout)
        if resp.status_code >= 400:
            resp.raise_for_status()

    def _compose(self, names, final):
        """Compose objects (parts, or groups of parts composed during the upload) into `final`, 32 at a time
        (intermediates composed again); returns the intermediates."""
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
        return made

    def _delete(self, names):
        for name in names:
            try:
                self.bucket.blob(name).delete(timeout=self.timeout)
            except Exception:  # pylint: disable=broad-except
                pass  # a part left behind costs storage only: the object is composed and checked

    def _segments(self, journal):
        """Upload the head and tail segments; returns the objects to compose in order, with each one's crc32c and length."""
        stream = self.stored
        parts = []  # (name, crc32c or None, object length)
        entries = []
        crc, total = 0, 0
        for i in range(stream.parts):
            part_crc, length, ccrc, sent, words = journal.done[i].split(":")
            if words != "-":
                entries.extend(decode_entries(words))
            crc = crc32_combine(crc, int(part_crc, 16), int(length))
            total += int(length)
            if int(sent):
                parts.append((self._part_name(i), None if ccrc == "-" else int(ccrc, 16), int(sent)))
        head = archive_head(entries, self.realsize)
        tail = archive_tail(total, len(head))
        head_seg = deflate_part(head, last=False, level=self.level, prefix=GZIP_HEADER)
        crc = crc32_combine(zlib.crc32(head), crc, total)
        crc = crc32_combine(crc, zlib.crc32(tail), len(tail))
        tail_seg = deflate_part(tail, last=True, level=self.level) + gzip_trailer(crc, len(head) + total + len(tail))
        out = []
        for suffix, seg in (("head", head_seg), ("tail", tail_seg)):
            name = "%s.%s" % (self.object_name, suffix)
            ccrc = crc32c(seg)
            retrier(tries=self.tries).call(self.classify, self._put, name, seg, ccrc)
            self.finish_sent += len(seg)
            out.append((name, ccrc, len(seg)))
        return [out[0]] + parts + [out[1]]

    def _check_composed(self, segments):
        """The composed object's crc32c and size (what Cloud Storage holds) against those combined from what was sent;
        returns (size, crc32c) as held."""
        blob = self.bucket.get_blob(self.object_name, timeout=self.timeout)
        size = sum(length for _n, _c, length in segments)
        where = "gs://%s/%s" % (self.bucket_name, self.object_name)
        if blob is None:
            raise UploadError("%s is missing after compose; run the task again (it resumes from its journal)" % where)
        if blob.size != size:
            raise UploadError("%s holds %s bytes after compose where %d were sent in %d objects; run the task again with overwrite: always"
                              % (where, blob.size, size, len(segments)))
        if any(c is None for _n, c, _l in segments) or not blob.crc32c:
            return blob.size, blob.crc32c  # without google-crc32c the parts carried MD5s, which a composite object does not keep: the size is checked
        want = 0
        for _n, ccrc, length in segments:
            want = crc32_combine(want, ccrc, length, CRC32C)
        held = struct.unpack(">I", base64.b64decode(blob.crc32c))[0]
        if held != want:
            raise UploadError("%s holds other bytes than were sent: its crc32c is %08x, the parts sent combine to %08x (a part changed "
                              "in the bucket or on the way); run the task again with overwrite: always" % (where, held, want))
        return blob.size, blob.crc32c

    def finish(self, journal):
        composed = journal.meta.get("composed")  # start() found it held as composed: straight to the image
        if not composed:
            try:
                segments = self._segments(journal)
                parts = [name for name, _c, _l in segments]
                names = []
                for name in parts:
                    group = self._group_of.get(name, name)  # a group composed during the upload stands for its parts, in order
                    if not names or names[-1] != group:
                        names.append(group)
                made = self._compose(names, self.object_name)
                size, crc = self._check_composed(segments)
            except UploadError:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                raise self._wrap(exc, "compose gs://%s/%s" % (self.bucket_name, self.object_name))
            # journaled before the parts go, so a re-run after a failed image creation resumes from the object
            composed = {"size": size, "crc32c": crc}
            journal.set_meta(composed=composed)
            listed = set(names)
            self._delete(names + made + [p for p in parts if p not in listed])
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
                       "object": "gs://%s/%s" % (self.bucket_name, self.object_name),
                       "archive_size": composed["size"]}
        if self.warnings:
            self.result["warnings"] = list(self.warnings)
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
    """The GCP target's lane in a fan-out (pipeline.run_lanes): parts of the image's stored bytes are assembled
    from the shared reads, then sent the same way `transfer` sends them (`GcpTarget.send_part`: zero runs into the
    sparse map, the non-zero runs deflated, the sparse entries journaled; the head and tail come in `finish`).

    The reads come in file order, the parts in virtual order, so a part can need bytes of several reads. Each part
    being assembled holds one of `concurrency + 2` part buffers, its bytes copied in as the reads pass; a complete
    part goes to `concurrency` workers (scan, deflate, upload, journal) and its buffer back to the lane. When every
    buffer holds a part still waiting for bytes, a newly touched part is dropped from the shared pass: `transfer`
    sends it afterwards, reading only that part (so memory stays bounded however the file is ordered). A full lane
    makes the readers wait: back-pressure, as a unit lane's queue does.
    """

    unit = 512  # how the shared reads are cut does not matter to it (bytes are copied by stream offset)

    def __init__(self, target, journal, progress, concurrency):
        self.target = target
        self.stream = stream = target.stored
        self.journal = journal
        self.progress = progress
        self.concurrency = max(1, int(concurrency))
        self.expect = dict((i, stream.part_length(i)) for i in range(stream.parts) if i not in journal.done)
        self.limit = self.concurrency + 2
        self.made = 0
        self.free = []
        self.slots = {}  # part -> [buffer, stored bytes still expected]
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
        t = self.stream.stream_offset(r.virtual_offset)
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
                n = self.stream.part_length(i)
                sent, zero = self.target.send_part(i, self.slots[i][0], self.journal, self.retry)
                self.stats.add(bytes_sent=sent, units_sent=0 if zero else 1, units_zero=1 if zero else 0, requests=0 if zero else 1)
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
