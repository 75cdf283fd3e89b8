"""The managed-disk blob front: what a disk's access SAS points at, forwarding to Azurite.

A SAS URL looks like `https://127.0.0.1:PORT/md-impexp/<grant>/abcd?sv=2018-03-28&sr=b&si=<policy id>&sig=...`
(real ones: `https://md-impexp-xxxx.z1.blob.storage.azure.net/<random>/abcd?sv=2018-03-28&sr=b&si=<guid>&sig=...`, which
is what a client that came through the real-host proxy gets). The permission and expiry are the grant's stored
access policy (`si`), kept by the plane, never in the URL. On an IP host the
storage SDK reads the first path segment as the account (Azurite's path style), so `md-impexp` is
the account, the container names one grant, and the plane's store says which disk it is and
whether the grant is still live.

Rules of a real managed-disk SAS, enforced here because Azurite does not:
- only Put Page (update, clear), Put Page From URL (the source another disk's Read SAS; 403 CannotVerifyCopySource
  otherwise), Get Blob, Get Blob Properties and Get Page Ranges; anything else (Put Blob, Put Block, Set Blob
  Properties, Delete, ...) is 403 OperationNotAllowed;
- Put Page update: at most 4 MiB (413 RequestBodyTooLarge), start and end 512-aligned and inside
  the disk (416 InvalidPageRange), Content-Length equal to the range (400 InvalidHeaderValue), the body
  matching its Content-MD5 / x-ms-content-crc64 when sent (400 Md5Mismatch / Crc64Mismatch, azure_content.py);
- the SAS: signature and stored policy (403 AuthenticationFailed), expiry (403 AuthenticationFailed), permission
  (403 AuthorizationPermissionMismatch: a Read grant cannot write); a revoked grant is gone
  (403 AuthenticationFailed); x-ms-version must be one Azure knows (400 InvalidHeaderValue) and is echoed;
- Get Blob with x-ms-range-get-content-crc64: the range's CRC-64 in x-ms-content-crc64 (a range of at most 4 MiB,
  not with the MD5 asked too: 400 InvalidHeaderValue).
Error bodies are Azure Storage's XML with the `x-ms-error-code` header.
"""

import base64
import datetime
import hashlib
import hmac
import re
import time
import uuid
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

from . import caps
from .azure_content import content_problem, crc64
from .base import Answer, HttpError, forward, forward_read

SAS_VERSION = "2018-03-28"
MAX_PUT_PAGE = 4 * 1024 * 1024
PAGE = 512
BLOB_NAME = "abcd"
ACCOUNT = "md-impexp"
STORAGE_VERSION = "2021-08-06"
BACKING_CONTAINER = "ips-lab-managed-disks"
RANGE_RE = re.compile(r"^bytes=(\d+)-(\d+)$")
# Response headers passed back from Azurite (everything else is Azurite's own business).
PASS_HEADERS = ("etag", "last-modified", "content-md5", "x-ms-content-crc64", "x-ms-blob-sequence-number", "x-ms-blob-type",
                "x-ms-request-server-encrypted", "content-range", "accept-ranges", "x-ms-blob-content-length", "content-type",
                "x-ms-lease-state", "x-ms-lease-status", "x-ms-creation-time", "x-ms-server-encrypted", "x-ms-error-code",
                "x-ms-blob-content-md5", "content-length")
# Request headers forwarded to Azurite.
FORWARD_HEADERS = ("x-ms-page-write", "content-md5", "x-ms-content-crc64", "x-ms-version", "x-ms-client-request-id",
                   "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "x-ms-if-sequence-number-le",
                   "x-ms-if-sequence-number-lt", "x-ms-if-sequence-number-eq", "x-ms-range-get-content-md5",
                   "x-ms-range-get-content-crc64", "x-ms-lease-id")


# The service versions Azure Storage answers to (learn.microsoft.com "Versioning for Azure Storage"; the newest are
# those azure-storage-blob 12.2x offers). Anything else in x-ms-version is 400 InvalidHeaderValue, as Azure answers.
KNOWN_VERSIONS = frozenset((
    "2009-09-19", "2011-08-18", "2012-02-12", "2013-08-15", "2014-02-14", "2015-02-21", "2015-04-05", "2015-07-08", "2015-12-11",
    "2016-05-31", "2017-04-17", "2017-07-29", "2017-11-09", "2018-03-28", "2018-11-09", "2019-02-02", "2019-07-07", "2019-10-10",
    "2019-12-12", "2020-02-10", "2020-04-08", "2020-06-12", "2020-08-04", "2020-10-02", "2020-12-06", "2021-02-12", "2021-04-10",
    "2021-06-08", "2021-08-06", "2021-10-04", "2021-12-02", "2022-11-02", "2023-01-03", "2023-05-03", "2023-08-03", "2023-11-03",
    "2024-02-04", "2024-05-04", "2024-08-04", "2024-11-04", "2025-01-05", "2025-05-05", "2025-07-05", "2025-11-05", "2026-02-06",
    "2026-04-06", "2026-06-06", "2026-10-06"))


def request_version(request):
    """The service version of a request: its x-ms-version (refused unless Azure knows it), else the SAS's sv."""
    version = request.headers.get("x-ms-version")
    if version is None:
        return request.params.get("sv") or STORAGE_VERSION
    if version.strip() not in KNOWN_VERSIONS:
        request.discard_body()
        error = storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
                              {"x-ms-error-header": "x-ms-version"})
        error.body = error.body.replace(b"</Message></Error>", b"</Message><HeaderName>x-ms-version</HeaderName><HeaderValue>%s"
                                        b"</HeaderValue></Error>" % escape(version).encode("utf-8"))
        raise error
    return version.strip()


def _error_code(exc):
    return exc.headers.get("x-ms-error-code") or str(exc.status)


def storage_error(status, code, message, headers=None):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    request_id = str(uuid.uuid4())
    body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s\nRequestId:%s\nTime:%s</Message></Error>'
            % (code, escape(message), request_id, stamp)).encode("utf-8")
    extra = {"x-ms-error-code": code, "x-ms-request-id": request_id, "x-ms-version": STORAGE_VERSION}
    extra.update(headers or {})
    return HttpError(status, body, extra, "application/xml")


class Azurite(object):
    """The page blobs behind the disks, in Azurite (raw REST with an account SAS)."""

    def __init__(self, blob_url, account, key):
        from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

        parts = urlsplit(blob_url)
        self.base = "%s://%s" % (parts.scheme, parts.netloc)
        self.prefix = parts.path.rstrip("/")
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3650)
        self.sas = generate_account_sas(account, key, ResourceTypes(service=True, container=True, object=True),
                                        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
                                        expiry)
        self._container_ready = False

    def path(self, blob, query=""):
        tail = "%s/%s/%s?%s" % (self.prefix, BACKING_CONTAINER, quote(blob), self.sas)
        return tail + ("&" + query if query else "")

    def _ensure_container(self):
        if self._container_ready:
            return
        status, _headers, body = forward_read(self.base, "PUT", "%s/%s?restype=container&%s" % (self.prefix, BACKING_CONTAINER, self.sas),
                                              {"x-ms-version": STORAGE_VERSION, "Content-Length": "0"})
        if status not in (201, 409):
            raise RuntimeError("Azurite refused to create the disks container: %s %s" % (status, body[:300]))
        self._container_ready = True

    def create_page_blob(self, blob, size):
        self._ensure_container()
        status, _headers, body = forward_read(self.base, "PUT", self.path(blob), {
            "x-ms-version": STORAGE_VERSION, "x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": str(size),
            "Content-Length": "0"})
        if status != 201:
            raise RuntimeError("Azurite refused to create page blob %s: %s %s" % (blob, status, body[:300]))

    def delete_blob(self, blob):
        forward_read(self.base, "DELETE", self.path(blob), {"x-ms-version": STORAGE_VERSION, "x-ms-delete-snapshots": "include"})

    def copy_blob(self, source, target):
        """Copy a page blob inside the backing container (Azurite's Copy Blob; waited for when pending)."""
        self._ensure_container()
        status, headers, body = forward_read(self.base, "PUT", self.path(target), {
            "x-ms-version": STORAGE_VERSION, "x-ms-copy-source": self.base + self.path(source), "Content-Length": "0"})
        if status not in (201, 202):
            raise RuntimeError("Azurite refused to copy %s to %s: %s %s" % (source, target, status, body[:300]))
        copy_status = dict((k.lower(), v) for k, v in headers.items()).get("x-ms-copy-status", "success")
        deadline = time.time() + 120
        while copy_status == "pending" and time.time() < deadline:
            time.sleep(0.1)
            status, headers, body = forward_read(self.base, "HEAD", self.path(target), {"x-ms-version": STORAGE_VERSION})
            copy_status = dict((k.lower(), v) for k, v in headers.items()).get("x-ms-copy-status", "success")
        if copy_status != "success":
            raise RuntimeError("Azurite's copy of %s to %s ended %s" % (source, target, copy_status))

    def read_range(self, blob, start, length):
        status, _headers, body = forward_read(self.base, "GET", self.path(blob), {
            "x-ms-version": STORAGE_VERSION, "x-ms-range": "bytes=%d-%d" % (start, start + length - 1)})
        if status not in (200, 206):
            raise RuntimeError("Azurite refused to read %s: %s %s" % (blob, status, body[:300]))
        return body


def sas_signature(key, container, policy):
    text = "\n".join((container, policy, SAS_VERSION, "b"))
    return base64.b64encode(hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


def disk_host(container):
    """The real-shaped host of a grant's SAS: md-impexp-<id>.z1.blob.storage.azure.net (what AzCopy keys on)."""
    return "md-impexp-%s.z1.blob.storage.azure.net" % container[len("md-"):]


def disk_account(host):
    """True for a managed disk's import/export account host (md-....blob.storage.azure.net)."""
    return host.startswith("md-") and host.endswith((".blob.storage.azure.net", ".blob.core.windows.net"))


def blob_url(plane_url, container, real_host=False):
    """The disk's blob: on the plane's own URL (path style, the account first), or with `real_host` on the real-shaped
    account host, as Azure gives it to a client that came through the real-host proxy."""
    if real_host:
        return "https://%s/%s/%s" % (disk_host(container), container, BLOB_NAME)
    return "%s/%s/%s/%s" % (plane_url, ACCOUNT, container, BLOB_NAME)


def make_sas_url(plane_url, key, container, policy, real_host=False):
    """A disk SAS as Azure shapes it: `?sv=2018-03-28&sr=b&si=<stored access policy>&sig=...`."""
    query = urlencode([("sv", SAS_VERSION), ("sr", "b"), ("si", policy), ("sig", sas_signature(key, container, policy))])
    return "%s?%s" % (blob_url(plane_url, container, real_host), query)


class BlobFront(object):
    """Serves `/md-impexp/<grant>/abcd` for the Azure plane; `plane.grant_for(container)` resolves grants."""

    def __init__(self, plane, azurite, key):
        self.plane = plane
        self.azurite = azurite
        self.key = key

    def handle(self, request, parts, account_host=None):
        """One disk SAS request; every answer, an error too, echoes the version the request was served with."""
        version = request_version(request)
        try:
            answer = self._handle(request, parts, account_host)
        except HttpError as exc:
            exc.headers["x-ms-version"] = version
            raise
        answer.headers["x-ms-version"] = version
        return answer

    def _handle(self, request, parts, account_host):
        if len(parts) != 3 or parts[2] != BLOB_NAME:
            raise storage_error(404, "ResourceNotFound", "The specified resource does not exist.")
        container = parts[1]
        if account_host and account_host != disk_host(container):
            # a SAS is signed for one account: another md- host does not know the grant
            raise storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. The SAS is not one of "
                                "this account (%s)." % account_host)
        grant, disk = self._authorise(request, container)
        comp = request.params.get("comp")
        method = request.method
        if method == "PUT" and comp == "page":
            self._need(grant, "w")
            self._throttle(request, grant, disk)
            if request.headers.get("x-ms-copy-source"):
                return self._put_page_from_url(request, grant, disk)
            return self._put_page(request, grant, disk)
        if method == "GET" and comp == "pagelist":
            self._need(grant, "r")
            return self._pass(request, grant, "comp=pagelist", buffered=True)
        if method in ("GET", "HEAD") and comp is None:
            self._need(grant, "r")
            return self._pass(request, grant, "", buffered=False)
        what = {("PUT", None): "Put Blob", ("PUT", "block"): "Put Block", ("PUT", "blocklist"): "Put Block List",
                ("PUT", "properties"): "Set Blob Properties", ("PUT", "metadata"): "Set Blob Metadata",
                ("DELETE", None): "Delete Blob", ("PUT", "snapshot"): "Snapshot Blob", ("PUT", "lease"): "Lease Blob",
                ("PUT", "copy"): "Copy Blob"}.get((method, comp), "%s ?comp=%s" % (method, comp))
        raise storage_error(403, "OperationNotAllowed", "%s is not allowed on a managed disk; a disk SAS allows only Put Page, "
                            "Get Blob, Get Blob Properties and Get Page Ranges." % what)

    # --- checks -------------------------------------------------------------------------------

    def _authorise(self, request, container):
        return self._check_sas(request.params, container)

    def _check_sas(self, params, container):
        """The SAS Azure gives for a disk: sv, sr=b, a stored access policy `si` (the grant's permission and expiry live
        with the service, not in the URL) and sig. Returns (grant, disk)."""
        sig, policy = params.get("sig"), params.get("si")
        if not sig:
            raise storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. The request carries no "
                                "signature (sig).")
        if not (policy and params.get("sv") and params.get("sr") == "b"):
            raise storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. The SAS lacks sv, sr or si "
                                "(a disk SAS names a stored access policy).")
        expected = sas_signature(self.key, container, policy)
        if not hmac.compare_digest(expected, sig) or params.get("sv") != SAS_VERSION:
            raise storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of "
                                "Authorization header is formed correctly including the signature.\nsignature mismatch")
        grant, disk = self.plane.grant_for(container)
        if grant is None or grant.get("policy") != policy:
            raise storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. The access to this disk "
                                "was revoked or never granted (no stored access policy %s)." % policy)
        if grant["expiry"] < time.time():
            expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(grant["expiry"]))
            raise storage_error(403, "AuthenticationFailed", "Signed expiry time [%s] has to be after the current time [%s]; "
                                "the SAS has expired." % (expiry, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        return grant, disk

    def _throttle(self, request, grant, disk):
        """The disk's upload cap (caps.py; off unless the `disk_upload_cap` setting is on): a Put Page beyond the disk
        tier's throughput is refused before its body is read, 503 ServerBusy with Retry-After."""
        wait = self.plane.cap_wait(grant["blob"], disk, self._page_bytes(request))
        if wait:
            request.discard_body()
            raise storage_error(503, "ServerBusy", "Ingress is over the account limit.", {"Retry-After": caps.retry_after(wait)})

    @staticmethod
    def _page_bytes(request):
        """The bytes a Put Page writes (its range; 0 for Clear Page or a range the checks below refuse)."""
        if (request.headers.get("x-ms-page-write") or "").lower() != "update":
            return 0
        match = RANGE_RE.match((request.headers.get("x-ms-range") or request.headers.get("Range") or "").strip())
        return int(match.group(2)) - int(match.group(1)) + 1 if match and int(match.group(2)) >= int(match.group(1)) else 0

    @staticmethod
    def _need(grant, letter):
        if letter not in ("rw" if grant["access"] == "Write" else "r"):
            raise storage_error(403, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation "
                                "using this permission.")

    @staticmethod
    def _range(request):
        text = request.headers.get("x-ms-range") or request.headers.get("Range")
        if not text:
            return None
        match = RANGE_RE.match(text.strip())
        if not match:
            raise storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
                                {"x-ms-error-header": "x-ms-range"})
        return int(match.group(1)), int(match.group(2))

    @staticmethod
    def _drain(request):
        """Read and drop a refused body so the client, still sending, reads our answer."""
        request.discard_body()

    def _put_page(self, request, grant, disk):
        write = (request.headers.get("x-ms-page-write") or "").lower()
        if write not in ("update", "clear"):
            self._drain(request)
            raise storage_error(400, "InvalidHeaderValue", "x-ms-page-write must be update or clear.",
                                {"x-ms-error-header": "x-ms-page-write"})
        length = request.length
        if write == "update" and length > MAX_PUT_PAGE:
            self._drain(request)
            raise storage_error(413, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible "
                                "limit.\nMaxLimit:%d" % MAX_PUT_PAGE)
        try:
            span = self._range(request)
        except HttpError:
            self._drain(request)
            raise
        if span is None:
            self._drain(request)
            raise storage_error(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.",
                                {"x-ms-error-header": "x-ms-range"})
        start, end = span
        size = disk["properties"]["creationData"]["uploadSizeBytes"]
        if start % PAGE or (end + 1) % PAGE or end < start:
            self._drain(request)
            raise storage_error(416, "InvalidPageRange", "The page range specified is invalid: start and end+1 must be multiples "
                                "of 512 (got bytes=%d-%d)." % (start, end))
        if end >= size:
            self._drain(request)
            raise storage_error(416, "InvalidPageRange", "The page range specified is invalid for the current size of the blob "
                                "(%d bytes; got bytes=%d-%d)." % (size, start, end))
        if write == "update" and length != end - start + 1:
            self._drain(request)
            raise storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format: "
                                "Content-Length %d does not match the range length %d." % (length, end - start + 1),
                                {"x-ms-error-header": "Content-Length"})
        if write == "clear" and length:
            self._drain(request)
            raise storage_error(400, "InvalidHeaderValue", "A Clear Page request carries no body.", {"x-ms-error-header": "Content-Length"})
        data = request.body(MAX_PUT_PAGE) if write == "update" else b""
        problem = content_problem(request.headers, data) if write == "update" else None
        if problem:
            status, code, message, header = problem
            raise storage_error(status, code, message, {"x-ms-error-header": header} if code == "InvalidHeaderValue" else None)
        headers = self._forward_headers(request)
        headers["x-ms-range"] = "bytes=%d-%d" % (start, end)
        headers["Content-Length"] = str(len(data))
        status, answer_headers, body = forward_read(self.azurite.base, "PUT", self.azurite.path(grant["blob"], "comp=page"), headers, data)
        if status == 201:
            self.plane.note_write(grant)
        return self._answer(status, answer_headers, body)

    def _put_page_from_url(self, request, grant, disk):
        """Put Page From URL (what AzCopy's disk-to-disk copy sends): up to 4 MiB of another disk, read through that disk's
        Read SAS (on the plane's own URL or its md- host), written at x-ms-range. The body is empty."""
        self._drain(request)
        dest = self._range(request)
        text = request.headers.get("x-ms-source-range") or ""
        match = RANGE_RE.match(text.strip())
        if dest is None or not match:
            raise storage_error(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.",
                                {"x-ms-error-header": "x-ms-range" if dest is None else "x-ms-source-range"})
        start, end = dest
        length = end - start + 1
        size = disk["properties"]["creationData"]["uploadSizeBytes"]
        if start % PAGE or (end + 1) % PAGE or end < start or end >= size:
            raise storage_error(416, "InvalidPageRange", "The page range specified is invalid (got bytes=%d-%d of %d)." % (start, end, size))
        if length > MAX_PUT_PAGE:
            raise storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format: a "
                                "range of Put Page From URL is at most 4 MiB.", {"x-ms-error-header": "x-ms-range"})
        source_start, source_end = int(match.group(1)), int(match.group(2))
        if source_end - source_start + 1 != length:
            raise storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format: the "
                                "source range and the destination range differ in length.", {"x-ms-error-header": "x-ms-source-range"})
        source_grant, source_disk = self._source(request.headers["x-ms-copy-source"])
        source_size = source_disk["properties"]["creationData"].get("uploadSizeBytes") or source_disk["properties"].get("diskSizeBytes")
        if source_size is not None and source_end >= source_size:
            raise storage_error(416, "InvalidRange", "The range specified is invalid for the current size of the source blob.")
        data = self.azurite.read_range(source_grant["blob"], source_start, length)
        headers = {"x-ms-version": STORAGE_VERSION, "x-ms-page-write": "update", "x-ms-range": "bytes=%d-%d" % (start, end),
                   "Content-Length": str(len(data))}
        status, answer_headers, body = forward_read(self.azurite.base, "PUT", self.azurite.path(grant["blob"], "comp=page"), headers, data)
        if status == 201:
            self.plane.note_write(grant)
        return self._answer(status, answer_headers, body)

    def _source(self, url):
        """(grant, disk) of a Put Page From URL source: a live Read grant of this plane, else 403 CannotVerifyCopySource."""
        parts = urlsplit(url)
        segments = [unquote(p) for p in parts.path.split("/") if p]
        host = (parts.hostname or "").lower()
        if disk_account(host):
            segments = [ACCOUNT] + segments
        params = dict((k, v[0]) for k, v in parse_qs(parts.query).items())
        try:
            if len(segments) != 3 or segments[0] != ACCOUNT or segments[2] != BLOB_NAME:
                raise storage_error(404, "ResourceNotFound", "The specified resource does not exist.")
            if disk_account(host) and host != disk_host(segments[1]):
                raise storage_error(403, "AuthenticationFailed", "The SAS is not one of this account.")
            source_grant, source_disk = self._check_sas(params, segments[1])
            self._need(source_grant, "r")
        except HttpError as exc:
            raise storage_error(403 if exc.status != 404 else 404, "CannotVerifyCopySource",
                                "The source of the copy could not be read: %s" % _error_code(exc))
        return source_grant, source_disk

    @staticmethod
    def _forward_headers(request):
        headers = {"x-ms-version": STORAGE_VERSION}
        for name in FORWARD_HEADERS:
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
        return headers

    @staticmethod
    def _check_crc64_read(span, headers):
        """Get Blob with x-ms-range-get-content-crc64: true needs a range of at most 4 MiB, and not the MD5 asked as well
        (400 InvalidHeaderValue, as Azure answers)."""
        found = re.match(r"bytes=(\d+)-(\d+)$", span or "")
        if headers.get("x-ms-range-get-content-md5", "").lower() == "true":
            raise storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
                                {"x-ms-error-header": "x-ms-range-get-content-crc64"})
        if not found or int(found.group(2)) - int(found.group(1)) + 1 > 4 * 1024 * 1024:
            raise storage_error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
                                {"x-ms-error-header": "x-ms-range-get-content-crc64"})

    @staticmethod
    def _answer(status, headers, body):
        lower = dict((k.lower(), v) for k, v in headers.items())
        out = dict((name, lower[name]) for name in PASS_HEADERS if name in lower and name not in ("content-length", "content-type"))
        out["x-ms-request-id"] = str(uuid.uuid4())
        out["x-ms-version"] = STORAGE_VERSION
        return Answer(status, body, out, lower.get("content-type", "application/octet-stream"))

    def _pass(self, request, grant, query, buffered):
        headers = self._forward_headers(request)
        headers.pop("content-length", None)
        span = request.headers.get("x-ms-range") or request.headers.get("Range")
        if span:
            headers["x-ms-range"] = span
        # Azurite answers no CRC64 for a ranged read: the plane computes it (the range is at most 4 MiB, so it is read whole)
        want_crc64 = headers.pop("x-ms-range-get-content-crc64", "").lower() == "true" and request.method == "GET" and not query
        if want_crc64:
            self._check_crc64_read(span, headers)
        path = self.azurite.path(grant["blob"], query)
        if buffered or want_crc64 or request.method == "HEAD":
            status, answer_headers, body = forward_read(self.azurite.base, request.method, path, headers)
            answer = self._answer(status, answer_headers, body)
            if want_crc64 and 200 <= status < 300:
                answer.headers["x-ms-content-crc64"] = base64.b64encode(crc64(body).to_bytes(8, "little")).decode("ascii")
            if request.method == "HEAD":
                answer.body = None
                answer.headers["Content-Length"] = dict((k.lower(), v) for k, v in answer_headers.items()).get("content-length", "0")
            return answer
        response = forward(self.azurite.base, "GET", path, headers)
        length = int(response.getheader("Content-Length") or 0)

        def chunks():
            try:
                while True:
                    chunk = response.read(1024 * 1024)
                    if not chunk:
                        break
                    yield chunk
            finally:
                response.connection_close()

        answer = self._answer(response.status, dict(response.getheaders()), None)
        answer.body = chunks()
        answer.length = length
        return answer
