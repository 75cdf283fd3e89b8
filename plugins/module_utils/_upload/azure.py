# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure target: a managed disk created for upload (azure-mgmt-compute), written through its
write SAS with Put Page (azure-storage-blob `upload_page`, never `upload_blob`).

The disk is created with createOption Upload and uploadSizeBytes = the virtual size rounded up
to a whole MiB + 512. Each 4 MiB window of the virtual disk is scanned for its non-zero 512-byte sectors;
their runs (zero gaps bridged only within 1 % of the data) go as Put Pages of at most 4 MiB, each with its
Content-MD5 so Azure checks the bytes it stores (400 Md5Mismatch otherwise). The synthesised
fixed-VHD footer is written last, then access is revoked (Azure checks the footer then), the
disk state checked, and the disk tagged with the source fingerprint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import FOOTER_SIZE, azure_upload_size, fixed_vhd_footer, round_up_mib
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import FINGERPRINT_TAG, STATE_TAG, MissingLibrary, Target
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UploadError, retrier, retry_after
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.zeros import SECTOR, nonzero_runs
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status, WaitTimeout

WINDOW = 4 * 1024 * 1024
MAX_PAGE = 4 * 1024 * 1024  # Put Page's largest body
ARM_SCOPE = "https://management.azure.com/.default"
FOUR_K_SKUS = ("UltraSSD_LRS", "PremiumV2_LRS")
RETRY_STATUS = (408, 429, 500, 502, 503, 504)
RESUME = "run the task again: it resumes from its journal and sends those pages again"
# Blob storage error code -> what to do
STORAGE_HINTS = {
    "Md5Mismatch": "the bytes Azure received differ from those sent (a proxy or network path changed them); " + RESUME,
    "Crc64Mismatch": "the bytes Azure received differ from those sent (a proxy or network path changed them); " + RESUME,
    "AuthenticationFailed": "the disk's write access (SAS) expired or was revoked; " + RESUME + " (it grants access again); raise "
                            "azure.sas_duration if uploads outlast it",
    "InvalidPageRange": "the page lies outside the disk: the disk was made for another image; run again with overwrite: always",
    "BlobNotFound": "the disk's blob is gone (access revoked or the disk deleted); " + RESUME,
}


def page_md5(body):
    """The Content-MD5 of a Put Page body (any buffer, hashed in place: the SDK's validate_content wants bytes, a copy).
    Azure checks it and stores nothing on a mismatch (400 Md5Mismatch)."""
    return hashlib.md5(body).digest()  # nosec - Azure's transactional content hash, not a security use


AUTH_SOURCES = ("auto", "client_secret", "certificate", "msi", "cli", "workload_identity")


def auth_source(o):
    """The sign-in ips_upload uses: the one named by azure.auth_source, or with auto the first that the options
    describe (a client secret, a certificate), else azure-identity's DefaultAzureCredential chain (environment,
    workload identity, managed identity, Azure CLI)."""
    source = o.get("auth_source") or "auto"
    if source == "auto":
        if o.get("client_secret"):
            return "client_secret"
        if o.get("x509_certificate_path"):
            return "certificate"
    return source


def credential(o, verify):
    """An azure-identity credential for the options (tenant, client and secret or certificate checked by the module)."""
    from azure import identity

    kw = {"connection_verify": verify}
    if o.get("authority"):
        kw.update(authority=o["authority"], disable_instance_discovery=True)
    source = auth_source(o)
    if source == "client_secret":
        return identity.ClientSecretCredential(o["tenant_id"], o["client_id"], o["client_secret"], **kw)
    if source == "certificate":
        return identity.CertificateCredential(o["tenant_id"], o["client_id"], certificate_path=o["x509_certificate_path"],
                                              password=o.get("x509_certificate_password"), **kw)
    if source == "workload_identity":
        return identity.WorkloadIdentityCredential(tenant_id=o.get("tenant_id"), client_id=o.get("client_id"), **kw)
    if source == "msi":
        return identity.ManagedIdentityCredential(client_id=o.get("client_id"), connection_verify=verify)
    if source == "cli":
        return identity.AzureCliCredential(tenant_id=o.get("tenant_id") or "")
    default_kw = {"authority": o["authority"]} if o.get("authority") else {}
    return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True, managed_identity_client_id=o.get("client_id"),
                                           **default_kw)


class AzureTarget(Target):
    name = "azure"
    unit_size = WINDOW
    whole_units = False
    paces_requests = True
    default_concurrency = 8

    wait_interval = 1

    def __init__(self, options, image, fp, timeout=60, tries=8, concurrency=8, wait_timeout=3600):
        super(AzureTarget, self).__init__(options, image, fp, timeout, tries, wait_timeout)
        try:
            import azure.identity  # noqa: F401 pylint: disable=unused-import
            from azure.mgmt.compute import ComputeManagementClient
            from azure.storage.blob import BlobClient  # noqa: F401 pylint: disable=unused-import
        except ImportError as exc:
            lib = "azure-identity" if "identity" in str(exc) else "azure-storage-blob" if "storage" in str(exc) else "azure-mgmt-compute"
            raise MissingLibrary(lib, "Azure", exc)
        o = options
        self.secrets = [s for s in (o.get("client_secret"), o.get("x509_certificate_password")) if s]
        self.rg = o["resource_group"]
        self.disk_name = o["disk_name"]
        self.sku = o.get("sku") or "Standard_LRS"
        self.ca = o.get("ca_path") or True
        if image.logical_sector_size != 512 and self.sku not in FOUR_K_SKUS:
            raise UploadError("%s has %d-byte logical sectors; Azure disks of SKU %s take only 512-byte sector disks (a 4K-sector disk "
                              "needs sku UltraSSD_LRS or PremiumV2_LRS), and converting the sector size would break the file system "
                              "inside" % (image.name, image.logical_sector_size, self.sku))
        self.credential = credential(o, self.ca)
        # polling_interval: azure-core's poller waits 30 s between looks at an operation that sends no Retry-After
        mgmt_kw = {"connection_verify": self.ca, "connection_timeout": min(timeout, 30), "read_timeout": timeout,
                   "polling_interval": 2}
        if o.get("arm_endpoint"):
            mgmt_kw["base_url"] = o["arm_endpoint"]
        mgmt_kw["credential_scopes"] = [o.get("arm_scope") or ARM_SCOPE]
        self.compute = ComputeManagementClient(self.credential, o["subscription_id"], **mgmt_kw)
        self.upload_size = azure_upload_size(image.virtual_size)
        self.data_size = round_up_mib(image.virtual_size)
        self._blob = None
        self._sas = None
        self.disk = None

    def object_key(self):
        return "azure:%s:%s:%s" % (self.options["subscription_id"], self.rg.lower(), self.disk_name.lower())

    def target_size(self):
        return self.upload_size

    def describe(self):
        return {"disk_name": self.disk_name, "resource_group": self.rg, "upload_size": self.upload_size, "sku": self.sku}

    def describe_name(self):
        return "disk %s in %s" % (self.disk_name, self.rg)

    # -- errors --

    def _wrap(self, exc, doing):
        msg = getattr(exc, "message", None) or str(exc)
        first = self.redact(msg).strip().splitlines()
        text = first[0] if first else type(exc).__name__
        code = getattr(exc, "error_code", None)  # Blob storage's x-ms-error-code (the XML body is never shown)
        status = getattr(exc, "status_code", None)
        if code:
            text = "%s%s (%s)" % ("%s " % status if status else "", code, text)
        hint = "check the azure options and the network path to the endpoint"
        low = str(exc).lower()
        if code in STORAGE_HINTS:
            hint = STORAGE_HINTS[code]
        elif status in RETRY_STATUS:
            hint = ("Azure still answered %s after %d tries: lower concurrency or set rate_limit (the disk tier's ingest rate), then "
                    "run the task again; it resumes from its journal" % (status, self.tries))
        elif "clientauthenticationerror" in type(exc).__name__.lower() or "aadsts" in low or "invalid_client" in low or "unauthorized" in low:
            hint = {"certificate": "check azure.tenant_id, azure.client_id and azure.x509_certificate_path (or AZURE_TENANT, "
                                   "AZURE_CLIENT_ID, AZURE_CLIENT_CERTIFICATE_PATH): the certificate must be registered for the app",
                    "msi": "check that the host has a managed identity with access (azure.client_id picks a user-assigned one)",
                    "cli": "sign in with az login on the host that runs the task",
                    "workload_identity": "check AZURE_FEDERATED_TOKEN_FILE, azure.tenant_id and azure.client_id",
                    "auto": "set azure.client_secret or azure.x509_certificate_path (with azure.tenant_id, azure.client_id), or "
                            "azure.auth_source"}.get(auth_source(self.options),
                                                     "check azure.tenant_id, azure.client_id and azure.client_secret (or AZURE_TENANT, "
                                                     "AZURE_CLIENT_ID, AZURE_SECRET)")
        elif "resourcegroupnotfound" in low:
            hint = "check azure.resource_group"
        elif "certificate" in low or "ssl" in low:
            hint = "set azure.ca_path to the CA bundle of the endpoint"
        return UploadError("Azure refused to %s: %s; %s" % (doing, text, hint))

    def _call(self, doing, func, *args, **kw):
        try:
            result = func(*args, **kw)
            if hasattr(result, "result") and hasattr(result, "done"):
                # A long-running operation: azure-core polls it in its own thread, as often as the operation's
                # Retry-After asks; the shared waiter bounds the wait by wait_timeout and names the option when it
                # runs out, and pauses in the poller's own wait, which returns once the operation is over (a plain
                # sleep of wait_interval cost up to a second per grant, revoke and delete).
                poller = result
                self.waiter(pause=poller.wait).until("Azure's operation to", lambda: poller, lambda p: p.done(),
                                                     lambda p: Status(doing, p.status(), None, None))
                result = poller.result()
            return result
        except (UploadError, WaitTimeout):
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise self._wrap(exc, doing)

    def classify(self, exc):
        status = getattr(exc, "status_code", None)
        if status is None:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
        if status in RETRY_STATUS:
            return True, status in (429, 503), retry_after(exc)
        # by class name (the SDKs are imported lazily), the class's bases included: azure-core answers a read timeout with
        # ServiceResponseTimeoutError, a ServiceResponseError
        names = set(cls.__name__ for cls in type(exc).__mro__)
        if names & {"ServiceRequestError", "ServiceResponseError", "IncompleteReadError", "ConnectionError", "Timeout", "ReadTimeout"}:
            return True, False, 0
        return False, False, 0

    # -- the target --

    def _get(self):
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return self.compute.disks.get(self.rg, self.disk_name)
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # pylint: disable=broad-except
            raise self._wrap(exc, "read the disk %s" % self.disk_name)

    def exists(self):
        disk = self.disk = self._settled(self._get())
        if disk is None:
            return None
        tags = disk.tags or {}
        if tags.get(FINGERPRINT_TAG) != self.fingerprint:
            return "different"
        state = disk.disk_state
        if tags.get(STATE_TAG) == "complete" and state not in ("ReadyToUpload", "ActiveUpload"):
            self.result = {"disk_id": disk.id, "disk_state": state}
            return "complete"
        if state in ("ReadyToUpload", "ActiveUpload"):
            return "partial"
        return "different"

    def _settled(self, disk):
        """The disk once Azure has finished creating or updating it (a re-run after a wait_timeout finds it so)."""
        if disk is None or disk.provisioning_state not in ("Creating", "Updating"):
            return disk
        return self.waiter().until("The disk", self._get, lambda d: d is None or d.provisioning_state not in ("Creating", "Updating"),
                                   lambda d: Status(self.disk_name, d.provisioning_state if d else "gone", None, None), first=disk)

    def remove(self):
        disk = self.disk or self._get()
        if disk is None:
            return
        if disk.disk_state == "ActiveUpload":
            # a disk in upload cannot be deleted; revoke needs a valid footer first
            self._grant()
            self._write_footer()
            self._call("revoke access to %s" % self.disk_name, self.compute.disks.begin_revoke_access, self.rg, self.disk_name)
        self._call("delete the disk %s" % self.disk_name, self.compute.disks.begin_delete, self.rg, self.disk_name)
        self.disk = None

    def _create(self):
        from azure.mgmt.compute.models import CreationData, Disk, DiskSku
        o = self.options
        tags = dict(o.get("tags") or {})
        tags.update({FINGERPRINT_TAG: self.fingerprint, STATE_TAG: "uploading"})
        creation = CreationData(create_option="Upload", upload_size_bytes=self.upload_size)
        if self.image.logical_sector_size != 512:
            creation.logical_sector_size = self.image.logical_sector_size
        disk = Disk(location=o["location"], sku=DiskSku(name=self.sku), creation_data=creation, tags=tags,
                    zones=[str(o["zone"])] if o.get("zone") else None, hyper_v_generation=o.get("hyper_v_generation"),
                    os_type=o.get("os_type"))
        return self._call("create the disk %s (createOption Upload, %d bytes)" % (self.disk_name, self.upload_size),
                          self.compute.disks.begin_create_or_update, self.rg, self.disk_name, disk)

    def _grant(self):
        from azure.mgmt.compute.models import GrantAccessData
        from azure.storage.blob import BlobClient
        # Add-AzVhd asks for a day per 100 GB; at least a day
        duration = int(self.options.get("sas_duration") or max(86400, 86400 * (self.upload_size // (100 * 10 ** 9) + 1)))
        access = self._call("grant write access to %s" % self.disk_name, self.compute.disks.begin_grant_access, self.rg, self.disk_name,
                            GrantAccessData(access="Write", duration_in_seconds=duration))
        self._sas = access.access_sas
        self._blob = BlobClient.from_blob_url(self._sas, connection_verify=self.ca, connection_timeout=min(self.timeout, 30),
                                              read_timeout=self.timeout, retry_total=0)

    def start(self, journal):
        disk = self.disk
        if disk is None:
            journal.reset()
            self.disk = self._create()
        elif journal.meta.get("disk_id") not in (None, disk.id) or journal.meta.get("unique_id") not in (None, disk.unique_id):
            journal.reset()  # the journal describes another disk of that name
        journal.set_meta(disk_id=self.disk.id, unique_id=self.disk.unique_id)
        self._grant()

    def send(self, index, voff, view, pace=None):
        """The non-zero runs of a window, one Put Page each (at most 4 MiB); `pace(nbytes)` (rate_limit) before each
        one, so the rate counts the bytes sent, not the window's zeros."""
        sent = requests = 0
        for start, end in nonzero_runs(view, voff, max_run=MAX_PAGE):
            start -= start % SECTOR
            end = min(end + (-end % SECTOR), self.data_size)
            body = view[start - voff:end - voff]
            if len(body) != end - start:  # the last run ends inside the last sector of a short view (once per disk)
                body = bytes(body) + bytes(end - start - len(body))
            # the memoryview slice itself: the SDK slices it (`page[:length]`, no copy) and urllib3 hands
            # any buffer straight to socket.sendall, so no per-request copy of up to 4 MiB is made
            if pace is not None:
                pace(end - start)
            self._blob.upload_page(body, offset=start, length=end - start, transactional_content_md5=page_md5(body))
            sent += end - start
            requests += 1
        return sent, requests, None

    def _write_footer(self):
        footer = fixed_vhd_footer(self.data_size, unique_id=self.image.unique_id)
        self._call("write the VHD footer", retrier(tries=self.tries).call, self.classify, self._put_footer, footer)
        self.finish_sent += len(footer)

    def _put_footer(self, footer):
        return self._blob.upload_page(footer, offset=self.data_size, length=FOOTER_SIZE, transactional_content_md5=page_md5(footer))

    def _check_page_ranges(self, journal):
        """Compare the disk's page ranges (Get Page Ranges, allowed by the write SAS) with the windows the journal says
        hold data: a window sent but holding nothing, or data where the source has none, fails the upload here, while
        a re-run can still repair it, instead of after Azure sealed the disk. The number of ranges read."""
        sent = set(i for i, digest in journal.done.items() if digest is not None)
        held = set()
        count = 0
        for page in self._call("list the page ranges of %s" % self.disk_name, lambda: list(self._blob.list_page_ranges())):
            if page.start >= self.data_size:
                continue  # the footer
            count += 1
            held.update(range(page.start // WINDOW, min(page.end, self.data_size - 1) // WINDOW + 1))
        missing, extra = sorted(sent - held), sorted(held - sent)
        if missing or extra:
            index = (missing or extra)[0]
            held_what, source_what = ("holds no data", "has data") if missing else ("holds data", "has none")
            raise UploadError("after the upload the disk %s %s at bytes %d to %d (%d such 4 MiB windows), where the source %s; run the "
                              "task again with overwrite: always"
                              % (self.disk_name, held_what, index * WINDOW, (index + 1) * WINDOW, len(missing or extra), source_what))
        return count

    def finish(self, journal):
        from azure.mgmt.compute.models import DiskUpdate
        ranges = self._check_page_ranges(journal)
        self._write_footer()
        self._call("revoke access to %s (Azure checks the VHD footer now)" % self.disk_name, self.compute.disks.begin_revoke_access,
                   self.rg, self.disk_name)
        self._blob = None
        disk = self._get()
        if disk is None or disk.disk_state in ("ReadyToUpload", "ActiveUpload"):
            raise UploadError("the disk %s is %s after revoking access; check it in the Azure portal and re-run"
                              % (self.disk_name, disk.disk_state if disk else "gone"))
        tags = dict(disk.tags or {})
        tags[STATE_TAG] = "complete"
        disk = self._call("tag the disk %s" % self.disk_name, self.compute.disks.begin_update, self.rg, self.disk_name, DiskUpdate(tags=tags))
        self.disk = disk
        self.result = {"disk_id": disk.id, "disk_state": disk.disk_state, "page_ranges_checked": ranges}

    def verify(self, journal):
        """Grant read access, read back the whole used range and compare with the source, sector by sector in windows."""
        from azure.mgmt.compute.models import GrantAccessData
        from azure.storage.blob import BlobClient
        access = self._call("grant read access to %s" % self.disk_name, self.compute.disks.begin_grant_access, self.rg, self.disk_name,
                            GrantAccessData(access="Read", duration_in_seconds=3600))
        self._sas = access.access_sas
        blob = BlobClient.from_blob_url(self._sas, connection_verify=self.ca, read_timeout=self.timeout)
        checked = 0
        try:
            for index in sorted(i for i, d in journal.done.items() if d is not None):
                start = index * WINDOW
                length = min(WINDOW, self.data_size - start)
                remote = self._call("read back window %d" % index, lambda: blob.download_blob(offset=start, length=length).readall())
                local = self.image.read_virtual(start, min(length, self.image.virtual_size - start))
                if remote[:len(local)] != local or any(remote[len(local):]):
                    raise UploadError("verify: bytes %d to %d of the disk %s differ from the source; re-run with overwrite: always"
                                      % (start, start + length, self.disk_name))
                checked += length
            footer = self._call("read back the footer", lambda: blob.download_blob(offset=self.data_size, length=FOOTER_SIZE).readall())
            if footer[:8] != b"conectix":
                raise UploadError("verify: the disk %s has no VHD footer" % self.disk_name)
        finally:
            self._call("revoke read access to %s" % self.disk_name, self.compute.disks.begin_revoke_access, self.rg, self.disk_name)
        return {"bytes_checked": checked, "ok": True}
