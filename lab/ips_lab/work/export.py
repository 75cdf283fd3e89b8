"""The export job's real work: seed the source disk, convert it with qemu-img, write it over SMB.

Whatever host the job's smb:// location names, the bytes go to the lab's own Samba (loopback, the
configured port): the lab never dials out.
"""

import errno
import os
import shutil
import subprocess
import tempfile

import smbclient
from smbprotocol.exceptions import AccessDenied, BadNetworkName, LogonFailure, SMBAuthenticationError, SMBException, SMBOSError

from ..cloud import rules
from .smb_location import parse_smb_location, smb_url, unc_path
from .source_disk import build_source_disk, sha256_of_file

CHUNK = 4 * 1024 * 1024
QEMU_OUTPUT = {
    "VhdxDiskFormat": ["-O", "vhdx", "-o", "subformat=dynamic"],
    "VhdDiskFormat": ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"],
}


class WorkFailed(Exception):
    """A job's work failed; `code` and the message become the job's error."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def source_disk_name(parameters):
    return next(parameters[f] for f in rules.ALL_SELECTORS if parameters.get(f))


def convert(raw_path, image_path, disk_format):
    cmd = ["qemu-img", "convert", "-q", "-f", "raw"] + QEMU_OUTPUT[disk_format] + [raw_path, image_path]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        raise WorkFailed("CompositingEngineError", "qemu-img is not installed on the lab host, so the disk could not be converted.")
    if done.returncode != 0:
        raise WorkFailed("CompositingEngineError", "Converting the disk failed: %s" % (done.stderr.strip() or done.returncode))


def _ensure_folders(server, location, **kwargs):
    """Check the share exists, then create the location's folders one by one.

    smbclient.makedirs() is not used: on a missing share it walks up and retries without end.
    """
    try:
        smbclient.stat(unc_path(server, location._replace(folders=())), **kwargs)
    except SMBOSError as exc:
        if exc.errno == errno.ENOENT:
            raise BadNetworkName()
        raise
    for depth in range(1, len(location.folders) + 1):
        try:
            smbclient.mkdir(unc_path(server, location._replace(folders=location.folders[:depth])), **kwargs)
        except SMBOSError as exc:
            if exc.errno != errno.EEXIST:
                raise


def write_over_smb(local_path, location, filename, login, smb):
    """Copy local_path to the location on the lab's Samba; returns the bytes written."""
    server, port = smb["host"], int(smb["port"])
    cache = {}  # a private connection per job: a bad password must never ride on a good session
    url = smb_url(location, filename)
    username = login["username"] if not login.get("domain") else "%s\\%s" % (login["domain"], login["username"])
    try:
        smbclient.register_session(server, username=username, password=login["password"], port=port,
                                   connection_timeout=15, connection_cache=cache)
        _ensure_folders(server, location, port=port, connection_cache=cache)
        written = 0
        target = unc_path(server, location, filename)
        with open(local_path, "rb") as src, smbclient.open_file(target, "wb", port=port, connection_cache=cache) as dst:
            for block in iter(lambda: src.read(CHUNK), b""):
                dst.write(block)
                written += len(block)
        return written
    except (LogonFailure, SMBAuthenticationError):
        raise WorkFailed("SmbAccessDenied", "Access denied writing %s: the SMB server rejected the user '%s' (logon failure)." % (url, username))
    except BadNetworkName:
        raise WorkFailed("SmbShareNotFound", "The SMB share '%s' does not exist on %s, so %s could not be written." % (location.share, location.host, url))
    except AccessDenied:
        raise WorkFailed("SmbAccessDenied", "Access denied writing %s: the user '%s' may not write there." % (url, username))
    except (SMBException, OSError, ValueError) as exc:
        raise WorkFailed("SmbError", "Writing %s failed: %s" % (url, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    finally:
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)


def run_export(parameters, credential_of, smb, tmp_root):
    """Do one export; returns its artifacts or raises WorkFailed.

    parameters: the job's validated body; credential_of(id) -> (type, secrets) from the wallet;
    smb: {"host", "port"} of the lab's Samba; tmp_root: where scratch files may go.
    """
    output = parameters["outputStorageLocation"]
    location = parse_smb_location(output["location"])
    cred_type, login = credential_of(output["credentialId"])
    if cred_type != rules.SMB_CREDENTIAL_TYPE:
        raise WorkFailed("CredentialNotFound", "The SMB credential '%s' is no longer in the wallet." % output["credentialId"])
    disk_format = parameters.get("outputImageFormat") or rules.DEFAULT_DISK_FORMAT
    filename = "%s.%s" % (parameters["outputImageFilename"], rules.DISK_EXTENSIONS[disk_format])
    os.makedirs(tmp_root, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="export-", dir=tmp_root)
    try:
        raw = os.path.join(scratch, "source.raw")
        build_source_disk(raw, source_disk_name(parameters))
        image = os.path.join(scratch, filename)
        convert(raw, image, disk_format)
        artifacts = {"outputImagePath": smb_url(location, filename), "outputImageFilename": filename,
                     "sizeBytes": write_over_smb(image, location, filename, login, smb)}
        if parameters.get("hashDisk"):
            artifacts["hash"] = sha256_of_file(raw)
        return artifacts
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
