# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The second backend of the job modules: Image Portability in the App Layering appliance (25.11+), through the
    # Citrix.AppLayering PowerShell module on a Windows host reached over PowerShell Remoting.
    # What a module with both backends documents: the backend choice here, the appliance in CONNECTION
    # (citrix_community.ips.appliance.connection) and the Windows host in citrix_community.ips.windows_host.appliance_host.
    DOCUMENTATION = r"""
options:
  backend:
    description:
      - Who runs the task. V(cloud) is the Citrix Cloud Image Portability service (deprecated by Citrix on 2025-08-09, no
        removal date announced). V(appliance) is Image Portability in the App Layering appliance 25.11 or later, driven by
        the C(Citrix.AppLayering) PowerShell module on the Windows host O(windows_host).
      - The appliance exports from vSphere, XenServer, Nutanix AHV and Azure, and prepares and publishes in Azure only.
      - Options only one backend has fail on the other, naming the option. With V(appliance) the platform dicts, the
        credential wallet and C(resource_location_id) are not used; the appliance reaches each platform through its
        connector configurations (O(appliance.connector), O(appliance.share_connector)).
      - The appliance keeps no tags a re-run could search by, so the task id is recorded in a small journal on the host that
        runs the task (O(appliance.journal_dir)); a re-run attaches to a running task, reports a completed one without
        change, and starts a failed one again.
    type: str
    choices: [cloud, appliance]
    default: cloud
    version_added: 0.2.0
requirements:
  - pypsrp (with C(backend=appliance))
"""

    # How the appliance is reached: every module with the appliance backend, and ips_job_wait (it follows a task by its id)
    CONNECTION = r"""
options:
  appliance:
    description:
      - The App Layering appliance, with C(backend=appliance).
    type: dict
    version_added: 0.2.0
    suboptions:
      address:
        description:
          - The appliance's IP address or FQDN (C(Connect-AlAppliance -Address)); the Windows host reaches it on TCP 443.
        type: str
      username:
        description:
          - An appliance user allowed to run Image Portability tasks.
        type: str
      password:
        description:
          - The password of O(appliance.username). Keep it in a vault. Sent to the Windows host as a PSCredential
            (a SecureString), never written to output, logs or the journal.
        type: str
      ignore_certificate_errors:
        description:
          - Accept the appliance's self-signed certificate (C(-IgnoreCertificateErrors)). Off by default.
        type: bool
        default: false
      connector:
        description:
          - The name of the appliance's connector configuration that reaches the platform of the disk
            (C(Get-AlConnectorConfig -Name)). For a prepare it must be of type C(Image Portability for Azure).
          - Required for export (the source platform's connector), prepare and publish (the Image Portability for Azure
            connector that reaches the disk).
        type: str
      share_connector:
        description:
          - The name of the appliance's Windows File Share connector configuration of the share the task writes to -
            the PVS store for publish (required), the share of the diagnostics (required), the export's share (optional;
            default the appliance's own IPS share).
        type: str
      journal_dir:
        description:
          - The folder of the task journal on the host that runs the task, one file per request (0600, folder 0700).
          - Default C($XDG_STATE_HOME/citrix_community.ips/appliance-tasks), else
            C(~/.local/state/citrix_community.ips/appliance-tasks).
        type: path
requirements:
  - pypsrp (with C(backend=appliance))
"""
