# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Looking for an appliance prepare's output disk in Azure, read-only, when no journaled task answers.

The appliance keeps no tags a re-run could search by: after the journal is lost (another host, a wiped
state folder) the prepare's output, a managed disk, is what says the work is done. The module looks with
its own Azure sign-in (`azure_output_check`, the same keys and sign-ins as ips_upload's azure dict,
through `_upload.azure.credential`), never with the appliance's connector, and only reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError, redact

ARM_SCOPE = "https://management.azure.com/.default"


def spec():
    """azure_output_check, documented in ips_prepare."""
    s = dict(type="str")
    return dict(azure_output_check=dict(type="dict", options=dict(
        tenant_id=s, client_id=s, client_secret=dict(type="str", no_log=True), auth_source=s,
        x509_certificate_path=dict(type="path"), x509_certificate_password=dict(type="str", no_log=True),
        authority=s, arm_endpoint=s, arm_scope=dict(type="str", default=ARM_SCOPE), ca_path=dict(type="path"))))


def _parts(arm_id):
    bits = arm_id.strip("/").split("/")
    lower = [b.lower() for b in bits]
    return bits[lower.index("subscriptions") + 1], bits[lower.index("resourcegroups") + 1]


def azure_disk_check(params):
    """An `output_exists` callable for ApplianceRunner: the output disk (named by output_disk_name in the target disk's
    subscription and resource group) -> None or the module's return values for it. None when azure_output_check is unset."""
    opts = params.get("azure_output_check")
    if not opts:
        return None

    def check():
        try:
            from azure.core.exceptions import ResourceNotFoundError
            from azure.mgmt.compute import ComputeManagementClient
            from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import credential
        except ImportError as exc:
            raise IPSError("azure_output_check needs azure-identity and azure-mgmt-compute on the host that runs the task (%s); "
                           "install them or remove azure_output_check." % exc)
        subscription, group = _parts(params["target_disk"])
        verify = opts.get("ca_path") or True
        kw = {"connection_verify": verify, "credential_scopes": [opts.get("arm_scope") or ARM_SCOPE]}
        if opts.get("arm_endpoint"):
            kw["base_url"] = opts["arm_endpoint"]
        secrets = [opts.get("client_secret"), opts.get("x509_certificate_password")]
        try:
            compute = ComputeManagementClient(credential(opts, verify), subscription, **kw)
            disk = compute.disks.get(group, params["output_disk_name"])
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # pylint: disable=broad-except
            raise IPSError("Looking for the output disk %s in Azure with azure_output_check (read-only) failed: %s. Fix "
                           "azure_output_check, or remove it to let the appliance decide about an existing output."
                           % (params["output_disk_name"], redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, secrets)))
        return {"exists": True, "disk_name": disk.name, "disk_id": disk.id, "disk_state": getattr(disk, "disk_state", None)}
    return check
