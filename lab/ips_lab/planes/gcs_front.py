"""The Cloud Storage front of the lab, inside the GCE plane's server (docs/lab.md, "The GCS front"): the JSON
API paths (/storage/v1/..., /upload/storage/v1/..., /download/storage/v1/...) with Cloud Storage's rules,
forwarded to the GCS emulator, which has none of them:

- OAuth: every call carries `Authorization: Bearer <the lab's GCP token>` (401 `required` without one,
  401 `authError` with another), as on storage.googleapis.com for a private bucket.
- Resumable uploads: a non-final chunk (Content-Range `bytes a-b/*`) must be at least 256 KiB (400 otherwise);
  Cloud Storage keeps only the largest multiple of 256 KiB of a longer one and says so in the 308's Range,
  so the front forwards only that much.
- compose: 1 to 32 source objects (400 otherwise).
- Preconditions `ifGenerationMatch`, `ifGenerationNotMatch`, `ifMetagenerationMatch`, `ifMetagenerationNotMatch`
  (0 for ifGenerationMatch: the object must not exist) on uploads, reads, compose and delete: 412
  `conditionNotMet`, or 304 for a read whose ifGenerationNotMatch / ifMetagenerationNotMatch fails.
- Hashes: a crc32c or md5Hash given with an upload (metadata, or `X-Goog-Hash` on a single-request upload) that
  does not match the bytes is 400 with Cloud Storage's message (the emulator answers 409). On the final request
  of a resumable upload, `X-Goog-Hash` covers the whole object: the front hashes each chunk the emulator took
  (a running CRC32C and MD5 per session, in memory) and refuses a mismatch before the object is made. A session
  the front did not see from its first byte (the plane restarted mid-upload) is not checked.
- Links it answers (a resumable session's Location, selfLink, mediaLink) point where the client came from
  (https://storage.googleapis.com through the real-host proxy).
"""

import base64
import hashlib
import json
import re
import threading

from . import caps
from .base import Answer, HttpError, forward_read

CHUNK_QUANTUM = 256 * 1024
MAX_COMPOSE = 32
MAX_BODY = 256 * 1024 * 1024
CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\*|\d+)$")
PRECONDITIONS = ("ifGenerationMatch", "ifGenerationNotMatch", "ifMetagenerationMatch", "ifMetagenerationNotMatch")
REAL_HOST = "storage.googleapis.com"
# response headers worth passing back from the emulator
PASS_HEADERS = ("content-type", "location", "range", "x-goog-hash", "x-goog-generation", "x-goog-metageneration", "etag",
                "content-range", "x-guploader-uploadid", "x-goog-stored-content-length")


def gcs_error(status, reason, message, headers=None):
    body = {"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}}
    return HttpError(status, body, headers)


def crc32c_b64(data):
    import google_crc32c  # the emulator's own dependency, so it is in the lab's venv

    return base64.b64encode(google_crc32c.Checksum(bytes(data)).digest()).decode("ascii")


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # nosec - Cloud Storage's md5Hash


def goog_hashes(header):
    """{'crc32c': ..., 'md5': ...} from an X-Goog-Hash header (`crc32c=...,md5=...`)."""
    found = {}
    for item in (header or "").split(","):
        name, _sep, value = item.strip().partition("=")
        if value:
            found[name.strip().lower()] = value.strip()
    return found


class SessionHashes(object):
    """The running CRC32C and MD5 of each resumable session's bytes the emulator took, from byte 0 on."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions = {}  # upload_id -> [next offset, crc32c value, md5 object]

    def whole(self, upload_id, start, chunk):
        """{'crc32c': b64, 'md5': b64} of the object this final `chunk` at `start` ends, or {} if the session's bytes
        before `start` were not all seen here."""
        import google_crc32c

        with self._lock:
            state = self._sessions.get(upload_id) or ([0, 0, hashlib.md5()] if start == 0 else None)  # nosec - md5Hash
            if state is None or not state[0] >= start:
                return {}
            rest = chunk[state[0] - start:]
            md5 = state[2].copy()
            md5.update(rest)
            crc = google_crc32c.extend(state[1], bytes(rest))
        return {"crc32c": base64.b64encode(crc.to_bytes(4, "big")).decode("ascii"), "md5": base64.b64encode(md5.digest()).decode("ascii")}

    def took(self, upload_id, start, chunk, persisted):
        """The emulator persisted bytes 0..`persisted`-1 after `chunk` at `start` was forwarded."""
        import google_crc32c

        with self._lock:
            state = self._sessions.get(upload_id) or ([0, 0, hashlib.md5()] if start == 0 else None)  # nosec - md5Hash
            if state is None or not start <= state[0] <= persisted <= start + len(chunk):
                self._sessions.pop(upload_id, None)
                return
            rest = chunk[state[0] - start:persisted - start]
            state[1] = google_crc32c.extend(state[1], bytes(rest))
            state[2].update(rest)
            state[0] = persisted
            self._sessions[upload_id] = state

    def forget(self, upload_id):
        with self._lock:
            self._sessions.pop(upload_id, None)


class GcsFront(object):
    def __init__(self, plane, emulator_url):
        self.plane = plane
        self.emulator = emulator_url.rstrip("/")
        self.sessions = SessionHashes()
        self.buckets = caps.Buckets()

    def handle(self, request, parts):
        """`parts`: the raw path's segments, each unquoted (an object name may hold '/')."""
        self.plane.check_token(request)
        method = request.method
        body = request.body(limit=MAX_BODY) if method in ("POST", "PUT", "PATCH") else None
        headers = self._forward_headers(request)
        bucket, obj = self._target(parts)
        self._throttle(request, parts, bucket, obj, body)
        self._preconditions(request, bucket, obj)
        if method == "POST" and parts[-1:] == ["compose"]:
            self._compose_rules(body)
        if parts[:1] == ["upload"]:
            body, headers = self._upload_rules(request, body, headers)
        status, answer_headers, data = forward_read(self.emulator, method, request.raw_path + ("?" + request.query if request.query else ""),
                                                    headers, body)
        if parts[:1] == ["upload"] and method == "PUT" and request.params.get("upload_id"):
            self._after_chunk(request.params["upload_id"], headers, body, status, answer_headers)
        if status == 409 and b"doesn't match" in data:
            # the emulator's hash mismatch; Cloud Storage answers 400 with the same words
            raise gcs_error(400, "invalid", self._message(data))
        return self._answer(request, status, answer_headers, data)

    # --- rules --------------------------------------------------------------------------------

    @staticmethod
    def _target(parts):
        """(bucket, object) a JSON API path names, either may be None."""
        rest = parts[1:] if parts[:1] in (["upload"], ["download"]) else parts
        if rest[:3] != ["storage", "v1", "b"] or len(rest) < 4:
            return None, None
        bucket = rest[3]
        if len(rest) >= 6 and rest[4] == "o":
            return bucket, rest[5]
        return bucket, None

    def _preconditions(self, request, bucket, obj):
        given = dict((k, request.params[k]) for k in PRECONDITIONS if k in request.params)
        if not given or not bucket:
            return
        name = obj or request.params.get("name")
        if request.method == "POST" and request.path.endswith("/compose"):
            name = obj
        current = self._metadata(bucket, name) if name else None
        generation = int(current["generation"]) if current else 0
        metageneration = int(current["metageneration"]) if current else 0
        read = request.method in ("GET", "HEAD")
        for key, value in given.items():
            try:
                wanted = int(value)
            except ValueError:
                raise gcs_error(400, "invalid", "Invalid argument for %s: %r is not a number." % (key, value))
            if key == "ifGenerationMatch":
                ok = generation == wanted
            elif key == "ifGenerationNotMatch":
                ok = generation != wanted
            elif key == "ifMetagenerationMatch":
                ok = current is not None and metageneration == wanted
            else:
                ok = current is None or metageneration != wanted
            if not ok:
                if read and key.endswith("NotMatch"):
                    raise HttpError(304, None)
                if current is None and key != "ifGenerationMatch" and read:
                    raise gcs_error(404, "notFound", "No such object: %s/%s" % (bucket, name))
                raise gcs_error(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")

    def _throttle(self, request, parts, bucket, obj, body):
        """The per-object write cap (caps.py; off unless the GCE plane's `object_write_cap` setting is on): a write to an
        object name (a single-request upload, compose, a metadata update, delete) beyond its rate is 429 rateLimitExceeded.
        A resumable session's chunks are not counted (the object is written when the session ends)."""
        rate = caps.rate_of(self.plane.lab.setting("object_write_cap"), caps.GCS_WRITES_PER_OBJECT_PER_SECOND)
        if not rate or not bucket or request.method in ("GET", "HEAD"):
            return
        name = obj
        if parts[:1] == ["upload"]:
            if request.params.get("uploadType") not in ("media", "multipart"):
                return
            name = request.params.get("name") or _multipart_name(request, body)
        if name and (request.method != "POST" or parts[-1:] == ["compose"] or parts[:1] == ["upload"]):
            if self.buckets.take((bucket, name), rate, 1):
                raise gcs_error(429, "rateLimitExceeded", "The object %s/%s exceeded the rate limit for object mutation operations "
                                "(create, update, and delete). Please reduce your request rate." % (bucket, name))

    def _metadata(self, bucket, name):
        status, _headers, data = forward_read(self.emulator, "GET", "/storage/v1/b/%s/o/%s" % (bucket, _quote(name)))
        if status != 200:
            return None
        return json.loads(data.decode("utf-8"))

    @staticmethod
    def _compose_rules(body):
        try:
            sources = (json.loads((body or b"{}").decode("utf-8")) or {}).get("sourceObjects") or []
        except ValueError:
            raise gcs_error(400, "parseError", "Parse Error")
        if not sources:
            raise gcs_error(400, "required", "Required: sourceObjects")
        if len(sources) > MAX_COMPOSE:
            raise gcs_error(400, "invalid", "The number of source components provided (%d) exceeds the maximum (%d)."
                            % (len(sources), MAX_COMPOSE))

    def _upload_rules(self, request, body, headers):
        kind = request.params.get("uploadType")
        if request.method == "PUT" and request.params.get("upload_id"):
            match = CONTENT_RANGE_RE.match(request.headers.get("Content-Range") or "")
            if match and match.group(3) == "*":
                start, end = int(match.group(1)), int(match.group(2))
                size = end - start + 1
                if size < CHUNK_QUANTUM:
                    raise gcs_error(400, "invalid", "Invalid request. The number of bytes uploaded is required to be equal or greater "
                                    "than 262144, except for the final request (it's recommended to be the exact multiple of 262144). "
                                    "The received request contained %d bytes, which does not meet this requirement." % size)
                kept = size - size % CHUNK_QUANTUM
                if kept != size:
                    body = body[:kept]
                    headers["Content-Range"] = "bytes %d-%d/*" % (start, start + kept - 1)
                    headers["Content-Length"] = str(kept)
            elif match:  # the final request: X-Goog-Hash covers the whole object
                self._check_whole_hash(request, int(match.group(1)), body)
            elif not request.headers.get("Content-Range"):  # the whole object in one request
                self._check_goog_hash(request, body)
            return body, headers
        if kind == "media":
            self._check_goog_hash(request, body)
        elif kind == "multipart":
            self._check_multipart(request, body)
        return body, headers

    def _after_chunk(self, upload_id, headers, body, status, answer_headers):
        """Keep the session's running hashes up to what the emulator says it persisted (a 308's Range)."""
        if status != 308:
            self.sessions.forget(upload_id)  # finished, or refused: a retry starts from what the client is told
            return
        match = CONTENT_RANGE_RE.match(headers.get("Content-Range") or "")
        persisted = re.match(r"^bytes=0-(\d+)$", dict((k.lower(), v) for k, v in answer_headers.items()).get("range") or "")
        if match and persisted:
            self.sessions.took(upload_id, int(match.group(1)), body or b"", int(persisted.group(1)) + 1)

    def _check_whole_hash(self, request, start, chunk):
        hashes = goog_hashes(request.headers.get("X-Goog-Hash"))
        whole = self.sessions.whole(request.params["upload_id"], start, chunk or b"") if hashes else {}
        if "crc32c" in hashes and whole and hashes["crc32c"] != whole["crc32c"]:
            raise gcs_error(400, "invalid", "Provided CRC32C \"%s\" doesn't match calculated CRC32C \"%s\"." % (hashes["crc32c"], whole["crc32c"]))
        if "md5" in hashes and whole and hashes["md5"] != whole["md5"]:
            raise gcs_error(400, "invalid", "Provided MD5 hash \"%s\" doesn't match calculated MD5 hash \"%s\"." % (hashes["md5"], whole["md5"]))

    @staticmethod
    def _check_goog_hash(request, body):
        hashes = goog_hashes(request.headers.get("X-Goog-Hash"))
        if body is None or not hashes:
            return
        if "crc32c" in hashes and hashes["crc32c"] != crc32c_b64(body):
            raise gcs_error(400, "invalid", "Provided CRC32C \"%s\" doesn't match calculated CRC32C \"%s\"."
                            % (hashes["crc32c"], crc32c_b64(body)))
        if "md5" in hashes and hashes["md5"] != md5_b64(body):
            raise gcs_error(400, "invalid", "Provided MD5 hash \"%s\" doesn't match calculated MD5 hash \"%s\"."
                            % (hashes["md5"], md5_b64(body)))

    @staticmethod
    def _check_multipart(request, body):
        """The metadata part's crc32c / md5Hash against the media part of a multipart/related upload."""
        ctype = request.headers.get("Content-Type") or ""
        match = re.search(r'boundary="?([^";]+)"?', ctype)
        if not match or not body:
            return
        boundary = b"--" + match.group(1).encode("latin-1")
        pieces = [p for p in body.split(boundary) if p.strip() not in (b"", b"--")]
        if len(pieces) < 2:
            return
        try:
            meta = json.loads(_part_content(pieces[0]).decode("utf-8"))
        except ValueError:
            return
        media = _part_content(pieces[1])
        if meta.get("crc32c") and meta["crc32c"] != crc32c_b64(media):
            raise gcs_error(400, "invalid", "Provided CRC32C \"%s\" doesn't match calculated CRC32C \"%s\"."
                            % (meta["crc32c"], crc32c_b64(media)))
        if meta.get("md5Hash") and meta["md5Hash"] != md5_b64(media):
            raise gcs_error(400, "invalid", "Provided MD5 hash \"%s\" doesn't match calculated MD5 hash \"%s\"."
                            % (meta["md5Hash"], md5_b64(media)))

    # --- forwarding ---------------------------------------------------------------------------

    @staticmethod
    def _forward_headers(request):
        headers = {}
        for name, value in request.headers.items():
            if name.lower() not in ("authorization", "connection", "transfer-encoding", "proxy-connection"):
                headers[name] = value
        return headers

    def _answer(self, request, status, headers, data):
        out = {}
        real = (request.headers.get("Host") or "").split(":")[0].lower() == REAL_HOST
        for name, value in headers.items():
            if name.lower() in PASS_HEADERS:
                if name.lower() == "location" and real:
                    value = value.replace("http://%s" % REAL_HOST, "https://%s" % REAL_HOST, 1)
                out[name] = value
        if real and data and b"http://%s" % REAL_HOST.encode() in data:
            data = data.replace(b"http://%s" % REAL_HOST.encode(), b"https://%s" % REAL_HOST.encode())
        content_type = out.pop("Content-Type", None) or out.pop("content-type", None) or "application/json"
        return Answer(status, data, out, content_type=content_type)

    @staticmethod
    def _message(data):
        try:
            return json.loads(data.decode("utf-8"))["error"]["message"]
        except (ValueError, KeyError, TypeError):
            return data.decode("utf-8", "replace")


def _multipart_name(request, body):
    """The object name in the metadata part of a multipart/related upload, or None."""
    match = re.search(r'boundary="?([^";]+)"?', request.headers.get("Content-Type") or "")
    if not match or not body:
        return None
    pieces = [p for p in body.split(b"--" + match.group(1).encode("latin-1")) if p.strip() not in (b"", b"--")]
    try:
        return json.loads(_part_content(pieces[0]).decode("utf-8")).get("name") if pieces else None
    except (ValueError, AttributeError):
        return None


def _part_content(piece):
    """The content of one part of a multipart/related body (after its headers, without the closing CRLF)."""
    return piece.split(b"\r\n\r\n", 1)[1][:-2] if b"\r\n\r\n" in piece else b""


def _quote(name):
    from urllib.parse import quote

    return quote(name, safe="")
