"""The real work of the PVS automation jobs and of diagnostics, all over SMB (jobwork/smb.py).

  convertToUefi, upgradePvs  read the input vDisk (inputImageFilename + the extension of
                             inputImageFormat) from inputStorageLocation: missing -> the job fails
                             naming the file. qemu-img checks it is an image of that format; the
                             output (outputImageFilename, same format; without it the input is
                             converted in place) is written into the same location. An existing
                             output other than the input is replaced only with overwriteOutput.
                             The lab copies the disk: it has no boot loader to convert and no PVS
                             software to install; upgradePvs grows the copy to outputSizeMb.
  reverseImage               the input must exist and be an image of its format; the native vSphere
                             disk (outputDiskName) has no model in the lab, so it is only reported.
  diagnostics                writes a zip bundle (a log per collected kind) into outputStorageLocation.
"""

import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile

from ..common import rules
from .errors import WorkFailed
from .smb import SmbShare

QEMU_FORMATS = {"VhdxDiskFormat": "vhdx", "VhdDiskFormat": "vpc"}


def _qemu(args, what):
    try:
        done = subprocess.run(["qemu-img"] + args, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        raise WorkFailed("CompositingEngineError", "qemu-img is not installed on the lab host, so %s." % what)
    if done.returncode != 0:
        raise WorkFailed("InvalidImage", "%s: %s" % (what, done.stderr.strip() or done.returncode))
    return done.stdout


def _check_image(path, disk_format, url):
    info = json.loads(_qemu(["info", "--output=json", path], "%s is not a readable disk image" % url))
    if info.get("format") != QEMU_FORMATS[disk_format]:
        raise WorkFailed("InvalidImage", "The input file %s is not a %s image (qemu-img sees '%s')."
                         % (url, rules.DISK_EXTENSIONS[disk_format].upper(), info.get("format")))
    return info


def _filename(name, disk_format):
    return "%s.%s" % (name, rules.DISK_EXTENSIONS[disk_format])


def run_pvs(job_type, parameters, credential_of, smb, tmp_root):
    """convertToUefi, upgradePvs or reverseImage; returns the artifacts or raises WorkFailed."""
    disk_format = parameters.get("inputImageFormat") or rules.DEFAULT_DISK_FORMAT
    source = _filename(parameters["inputImageFilename"], disk_format)
    os.makedirs(tmp_root, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="pvs-", dir=tmp_root)
    try:
        with SmbShare(parameters["inputStorageLocation"], credential_of, smb) as share:
            local = os.path.join(scratch, source)
            share.read_file(source, local)
            target = None
            if job_type != "reverseImage":
                target = _filename(parameters.get("outputImageFilename") or parameters["inputImageFilename"], disk_format)
                if target != source:
                    share.refuse_existing(target, parameters.get("overwriteOutput"), "overwriteOutput")
            info = _check_image(local, disk_format, share.url(source))
            artifacts = {"inputImagePath": share.url(source)}
            if job_type == "reverseImage":
                artifacts["outputDiskName"] = parameters.get("outputDiskName") or parameters["inputImageFilename"]
                artifacts["sizeBytes"] = info.get("virtual-size")
                return artifacts
            if job_type == "upgradePvs" and parameters.get("outputSizeMb"):
                wanted = parameters["outputSizeMb"] * 1024 * 1024
                if wanted < info["virtual-size"]:
                    raise WorkFailed("InvalidParameter", "outputSizeMb %d is smaller than the vDisk %s (%d MiB); a vDisk cannot shrink."
                                     % (parameters["outputSizeMb"], share.url(source), info["virtual-size"] // (1024 * 1024)))
                # qemu-img cannot resize VHDX: make the bigger image, then copy the data into it.
                fmt = QEMU_FORMATS[disk_format]
                grown = os.path.join(scratch, "grown-" + source)
                _qemu(["create", "-q", "-f", fmt] + (["-o", "force_size=on"] if fmt == "vpc" else []) + [grown, str(wanted)],
                      "Growing %s failed" % share.url(source))
                _qemu(["convert", "-q", "-n", "-f", fmt, "-O", fmt, local, grown], "Growing %s failed" % share.url(source))
                local = grown
            artifacts.update(outputImagePath=share.url(target), outputImageFilename=target, sizeBytes=share.write_file(local, target))
            return artifacts
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def diagnostics_bundle(job_id, parameters, now=None):
    """(file name, zip bytes) of a diagnostics bundle: one log per kind the job collects."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now or time.time()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        if parameters.get("ceLogs"):
            bundle.writestr("ce/compositing-engine.log", "%s lab compositing engine for platform %s: no errors\n" % (stamp, parameters["platform"]))
        if parameters.get("windowsEventLogs"):
            bundle.writestr("windows/System.evtx.txt", "%s lab Windows event log (System): empty\n" % stamp)
        if parameters.get("ipsData"):
            data = {"jobId": job_id, "platform": parameters["platform"], "resourceLocationId": parameters["resourceLocationId"]}
            bundle.writestr("ips/ips-data.json", json.dumps(data, indent=2) + "\n")
    return "ips-diagnostics-%s-%s.zip" % (stamp, job_id[:8]), buffer.getvalue()


def run_diagnostics(job_id, parameters, credential_of, smb, tmp_root):
    name, data = diagnostics_bundle(job_id, parameters)
    os.makedirs(tmp_root, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="diag-", dir=tmp_root)
    try:
        local = os.path.join(scratch, name)
        with open(local, "wb") as out:
            out.write(data)
        with SmbShare(parameters["outputStorageLocation"], credential_of, smb) as share:
            return {"outputPath": share.url(name), "outputImageFilename": name, "sizeBytes": share.write_file(local, name)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
