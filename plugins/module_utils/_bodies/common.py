# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option blocks several job modules share, and the body parts built from them.

The platform dicts (vsphere, xenserver, nutanix, azure, aws, gcp) and the smb dict are defined
once here (argument spec) and once in the `platforms` / `smb` doc fragments. Every function is pure:
options in, JSON body part out, or OptionError naming the options at fault. JSON names come from
_wire only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.citrix_community.ips.plugins.module_utils import _job_runner
from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

PLATFORMS = ("vsphere", "xenserver", "nutanix", "azure", "aws", "gcp")
HYPERVISORS = ("vsphere", "xenserver", "nutanix")
CLOUDS = ("azure", "aws", "gcp")
DEFAULT_PORTS = {"vsphere": 443, "xenserver": 443, "nutanix": 9440}
DEFAULT_CE_VM_SKU = "Standard_D2S_v3"

_SHA1_FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){19}$")
_MD5 = re.compile(r"^[0-9A-Fa-f]{32}$")


class OptionError(IPSError):
    """Options that contradict each other; raised before any request is sent."""


def _tls_options():
    return dict(
        ssl_ca_certificate=dict(type="str"),
        ssl_fingerprint=dict(type="str"),
        ssl_no_check_hostname=dict(type="bool"),
    )


def platform_argument_spec():
    """The six platform dicts, documented by the citrix_community.ips.platforms doc fragment."""
    cred = dict(type="str", required=True)
    vsphere = dict(host=dict(type="str", required=True), port=dict(type="int", default=443), credential_id=cred,
                   datacenter=dict(type="str"), cluster=dict(type="str"), host_system=dict(type="str"),
                   datastore=dict(type="str"), network=dict(type="str"), resource_pool=dict(type="str"),
                   folder=dict(type="str"))
    vsphere.update(_tls_options())
    xenserver = dict(host=dict(type="str", required=True), port=dict(type="int", default=443), credential_id=cred,
                     network=dict(type="str"), storage_repository_uuid=dict(type="str"))
    xenserver.update(_tls_options())
    nutanix = dict(host=dict(type="str", required=True), port=dict(type="int", default=9440), credential_id=cred,
                   network=dict(type="str"), storage_container=dict(type="str"))
    nutanix.update(_tls_options())
    azure = dict(credential_id=cred, subscription_id=dict(type="str", required=True), location=dict(type="str"),
                 resource_group=dict(type="str"), vm_resource_group=dict(type="str"),
                 vnet_resource_group=dict(type="str"), vnet=dict(type="str"), subnet=dict(type="str"),
                 use_public_ip=dict(type="bool"), ce_vm_sku=dict(type="str", default=DEFAULT_CE_VM_SKU),
                 network_isolation=dict(type="bool"))
    aws = dict(credential_id=cred, region=dict(type="str", required=True), subnet_id=dict(type="str"),
               security_group_ids=dict(type="list", elements="str"), use_public_ip=dict(type="bool"),
               ce_instance_type=dict(type="str"))
    gcp = dict(credential_id=cred, zone=dict(type="str", required=True), vpc_network=dict(type="str"),
               vpc_subnet=dict(type="str"), network_tags=dict(type="list", elements="str"),
               use_public_ip=dict(type="bool"), ce_machine_type=dict(type="str"))
    return dict((name, dict(type="dict", options=opts)) for name, opts in
                (("vsphere", vsphere), ("xenserver", xenserver), ("nutanix", nutanix), ("azure", azure), ("aws", aws), ("gcp", gcp)))


def smb_argument_spec():
    """The smb dict, documented by the citrix_community.ips.smb doc fragment."""
    return dict(smb=dict(type="dict", options=dict(location=dict(type="str", required=True),
                                                   credential_id=dict(type="str"),  # required by backend: cloud
                                                   # only for the module's own read-only look for an existing output
                                                   username=dict(type="str"), password=dict(type="str", no_log=True),
                                                   domain=dict(type="str"), port=dict(type="int", default=445))))


def platform_options(params, allowed=PLATFORMS):
    """The chosen platform's dict; OptionError when it is missing or another platform's dict is set."""
    platform = params["platform"]
    if platform not in allowed:
        raise OptionError("platform %s is not offered by this job; choose one of %s." % (platform, ", ".join(allowed)))
    others = [name for name in PLATFORMS if name != platform and params.get(name)]
    if others:
        raise OptionError("%s: set only the dict of the chosen platform; platform is %s, so remove %s (or set platform to %s)."
                          % (", ".join(others), platform, " and ".join(others), others[0]))
    opts = params.get(platform)
    if not opts:
        raise OptionError("platform is %s, so the %s option (a dict with its connection details) is required." % (platform, platform))
    fingerprint = opts.get("ssl_fingerprint")
    if fingerprint and not _SHA1_FINGERPRINT.match(fingerprint):
        raise OptionError("%s.ssl_fingerprint must be a SHA-1 fingerprint: 20 hex pairs, with or without colons (got %s)."
                          % (platform, fingerprint))
    if opts.get("ssl_no_check_hostname") and not (opts.get("ssl_ca_certificate") or fingerprint):
        raise OptionError("%s.ssl_no_check_hostname skips only the host-name check, so it needs %s.ssl_ca_certificate or "
                          "%s.ssl_fingerprint to say which certificate to trust." % (platform, platform, platform))
    return opts


def platform_body(platform, opts):
    """The platform dict -> its JSON fields (None values left out)."""
    names = _wire.PLATFORM_FIELDS[platform]
    return dict((names[key].json, value) for key, value in sorted(opts.items()) if key in names and value is not None)


def base_body(params, platform, opts, credential_id=None):
    """Common fields + the platform's fields: what every job body starts with."""
    fields = _wire.JOB_COMMON_FIELDS
    body = _job_runner.common_body(params, platform, credential_id or opts["credential_id"])
    if params.get("job_timeout") is not None:
        if params["job_timeout"] < 60:
            raise OptionError("job_timeout is the job's own time limit on the service, in seconds: use 60 or more (got %s)." % params["job_timeout"])
        body[fields["timeout"].json] = params["job_timeout"]
    body.update(platform_body(platform, opts))
    return body


def smb_location(smb, option="smb"):
    """The smb dict -> {location, credentialId}; the location must be smb://host/share/path/."""
    if not smb:
        raise OptionError("%s is required: the share the job writes to, as {location: smb://host/share/path/, credential_id: <wallet id>}." % option)
    if not smb.get("credential_id"):
        raise OptionError("%s.credential_id is required: the credential wallet id of the account the service writes to the share with." % option)
    location = smb["location"].strip()
    match = re.match(r"^smb://([^/@?#]+)/([^/?#]+)(/[^?#]*)?$", location, re.IGNORECASE)
    if not match or ".." in location.split("/"):
        raise OptionError("%s.location must look like smb://host/share/path/ (no user name, no '..'); got %s." % (option, location))
    if not location.endswith("/"):
        location += "/"
    names = _wire.SMB_LOCATION_FIELDS
    return {names["location"].json: location, names["credential_id"].json: smb["credential_id"]}


def disk_selector(table, platform, params, disk_option, snapshot_option):
    """Which disk a job reads: {json field: value} from the disk or snapshot option of the platform."""
    fields = table[platform]
    disk, snapshot = params.get(disk_option), params.get(snapshot_option)
    if disk and snapshot:
        raise OptionError("%s and %s name the same input twice; set only one of them." % (disk_option, snapshot_option))
    if snapshot and "snapshot" not in fields:
        raise OptionError("%s is for platforms whose disks come as snapshots (%s); platform is %s, so use %s."
                          % (snapshot_option, ", ".join(p for p in PLATFORMS if "snapshot" in table[p]), platform, disk_option))
    if not (disk or snapshot):
        raise OptionError("%s is required: the disk the job reads%s." % (
            disk_option, " (or %s)" % snapshot_option if "snapshot" in fields else ""))
    return {fields["snapshot"].json: snapshot} if snapshot else {fields["disk"].json: disk}


def check_md5(value, option="md5_hash"):
    if value and not _MD5.match(value):
        raise OptionError("%s must be an MD5 hash: 32 hexadecimal characters (got %s)." % (option, value))
    return value.lower() if value else value


def overwrite_field(name, params):
    """{overwrite field: True} when force is set, else {}."""
    return {name.json: True} if params.get("force") else {}
