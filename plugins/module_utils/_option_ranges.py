# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documented range of every numeric option, and the check that enforces it before any connection.

The argument spec checks types; this table checks values. One table for every module, keyed by the
option's path as a user writes it (`source.port`, `aws.snapshot_timeout`): an option means the same
thing in every module that has it. Each module's DOCUMENTATION states the same range.

    problems = range_problems(module.params)   # [] or one line per option out of range
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

PORT = (1, 65535, "a TCP port")

# path -> (lowest, highest, what the number is). Paths under a dict option name the dict first.
RANGES = {
    # the Citrix Cloud client (auth doc fragment)
    "request_timeout": (1, 3600, "seconds one request may take"),
    "max_retries": (0, 20, "retries of a throttled or failed request"),
    "retry_max_delay": (0, 3600, "seconds between two retries at most"),
    # waiting for jobs (wait doc fragment, ips_aws_image, ips_upload)
    "wait_timeout": (1, 7 * 24 * 3600, "seconds to wait"),
    "wait_sleep": (1, 3600, "seconds between two polls"),
    "job_timeout": (1, 7 * 24 * 3600, "seconds the service lets the job run"),
    "limit": (1, 10000, "jobs to list"),
    # the controller-side waits (ips_job_wait, ips_upload_wait)
    "timeout": (1, 7 * 24 * 3600, "seconds to wait"),
    "poll_delay": (0.01, 3600, "seconds between two looks"),
    "report_every": (0, 86400, "seconds between two progress lines"),
    "stale_after": (1, 86400, "seconds without progress before the upload counts as dead"),
    # uploads (ips_upload, ips_disk_info)
    "concurrency": (1, 64, "requests in flight"),
    "retries": (1, 100, "tries per request"),
    "rate_limit": (0.01, 1048576, "MiB/s"),
    "source.port": PORT,
    "source.connections": (1, 16, "SMB connections, each with its own read buffer"),
    "azure.sas_duration": (300, 2147483647, "seconds the disk's write access stays valid"),
    "aws.snapshot_timeout": (10, 4320, "minutes EBS keeps a pending snapshot"),
    "gcp.compression_level": (1, 9, "the gzip level"),
    # platforms and shares of the job modules
    "vsphere.port": PORT,
    "xenserver.port": PORT,
    "nutanix.port": PORT,
    "smb.port": PORT,
    # the Windows host reached over PowerShell Remoting (appliance backend, ips_pvs_vdisk)
    "windows_host.port": PORT,
    "windows_host.connection_timeout": (1, 3600, "seconds to wait for the connection"),
    "windows_host.operation_timeout": (1, 3600, "seconds one WS-Management request may take"),
    "preflight.timeout": (1, 3600, "seconds to wait for vCenter"),
    "source.preflight.timeout": (1, 3600, "seconds to wait for vCenter"),
    # the MCS last mile (ips_mcs_catalog, ips_mcs_catalog_image) and the PVS one (ips_pvs_vdisk)
    "machine_count": (0, 10000, "machines the catalog creates"),
    "disk_size_gb": (10, 65536, "GB of the template's boot disk"),
    "reboot.duration": (-1, 10080, "minutes, -1 at the next shutdown"),
    "reboot.warning_duration": (0, 10080, "minutes of warning before a restart"),
    "reboot.warning_repeat_interval": (0, 10080, "minutes between two warnings"),
    "pvs.port": PORT,
    "write_cache_size": (0, 1048576, "MB of RAM write cache"),
    "image_size": (1, 64 * 1024 ** 4, "bytes of the image's virtual disk"),
    "output_size_mb": (1, 64 * 1024 * 1024, "MiB"),
}


def _value(params, path):
    node = params
    for key in path.split("."):
        if not isinstance(node, dict) or node.get(key) is None:
            return None
        node = node[key]
    return node


def _number(value):
    return int(value) if float(value) == int(value) else value


def range_problems(params, ranges=None):
    """One line per option of `params` outside its documented range: the option, the range, the value, the fix."""
    problems = []
    for path, (low, high, what) in sorted((ranges or RANGES).items()):
        value = _value(params, path)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isnan(value) or not low <= value <= high:  # NaN is never in range
            problems.append("%s must be from %s to %s (%s), got %s; set it within that range" % (path, _number(low), _number(high), what, value))
    return problems


INSECURE_WARNING = ("%s turns TLS certificate verification off: anyone on the network path can read and change this traffic, "
                    "secrets included. Use it only in a lab; trust a private CA with its ca_path option instead.")


def insecure_options(params, prefix=""):
    """Paths of every option that turns TLS verification off (`validate_certs: false`, `ssl_no_check_hostname: true`)."""
    found = []
    for key, value in sorted((params or {}).items()):
        if isinstance(value, dict):
            found.extend(insecure_options(value, prefix + key + "."))
        elif (key, value) in (("validate_certs", False), ("ssl_no_check_hostname", True)):
            found.append("%s%s: %s" % (prefix, key, str(value).lower()))
    return found
