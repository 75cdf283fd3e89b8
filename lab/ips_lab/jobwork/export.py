"""The export job's real work: seed the source disk, convert it with qemu-img, write it over SMB
(jobwork/smb.py, the one SMB client of the lab's jobs).

An existing output file is not replaced unless the body sets `overwriteTargetFile` (the job fails
with OutputExists, as the real service refuses to overwrite).
"""

import os
import shutil
import subprocess
import tempfile

from ..common import rules
from .errors import WorkFailed
from .smb import SmbShare, write_over_smb
from .source_disk import build_source_disk, sha256_of_file

__all__ = ["WorkFailed", "convert", "run_export", "source_disk_name", "write_over_smb"]

QEMU_OUTPUT = {
    "VhdxDiskFormat": ["-O", "vhdx", "-o", "subformat=dynamic"],
    "VhdDiskFormat": ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"],
}


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


def run_export(parameters, credential_of, smb, tmp_root):
    """Do one export; returns its artifacts or raises WorkFailed.

    parameters: the job's validated body; credential_of(id) -> (type, secrets) from the wallet;
    smb: {"host", "port"} of the lab's Samba; tmp_root: where scratch files may go.
    """
    disk_format = parameters.get("outputImageFormat") or rules.DEFAULT_DISK_FORMAT
    filename = "%s.%s" % (parameters["outputImageFilename"], rules.DISK_EXTENSIONS[disk_format])
    with SmbShare(parameters["outputStorageLocation"], credential_of, smb) as share:
        share.refuse_existing(filename, parameters.get("overwriteTargetFile"), "overwriteTargetFile")
        os.makedirs(tmp_root, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="export-", dir=tmp_root)
        try:
            raw = os.path.join(scratch, "source.raw")
            build_source_disk(raw, source_disk_name(parameters))
            image = os.path.join(scratch, filename)
            convert(raw, image, disk_format)
            artifacts = {"outputImagePath": share.url(filename), "outputImageFilename": filename,
                         "sizeBytes": share.write_file(image, filename)}
            if parameters.get("hashDisk"):
                artifacts["hash"] = sha256_of_file(raw)
            return artifacts
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
