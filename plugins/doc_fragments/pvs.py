# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The PVS farm reached through the PVS console's snap-in on a Windows host (the appliance backend's transport).
    DOCUMENTATION = r"""
options:
  pvs:
    description:
      - The Provisioning (PVS) farm the Windows host connects to (C(Set-PvsConnection)), and the site and store of the vDisk.
    type: dict
    required: true
    suboptions:
      server:
        description:
          - The PVS server's name or IP address, as the Windows host reaches it.
        type: str
        required: true
      port:
        description:
          - The PVS SOAP service's port. From 1 to 65535.
        type: int
        default: 54321
      site:
        description:
          - The PVS site (C(-SiteName)).
        type: str
        required: true
      store:
        description:
          - The PVS store the disk file is in (C(-StoreName)); its path is the share Image Portability published to.
        type: str
        required: true
  windows_host:
    description:
      - The Windows host with the Provisioning console's PowerShell snap-in C(Citrix.PVS.SnapIn) (Windows PowerShell 5.1), a PVS
        server or any host with the PVS console, reached over PowerShell Remoting (WinRM). Needs the C(pypsrp) Python library on
        the host that runs the task. The same options as the App Layering backend's O(windows_host).
      - Only cmdlets with named parameters are sent, never script text, so a value such as a disk name reaches the cmdlet
        as a literal string.
    type: dict
    required: true
    suboptions:
      host:
        description:
          - Host name or IP address of the Windows host.
        type: str
        required: true
      port:
        description:
          - The WinRM port, from 1 to 65535. Default 5986 with O(windows_host.transport=https), 5985 with V(http).
        type: int
      username:
        description:
          - The account PowerShell Remoting signs in with (C(DOMAIN\\user) or C(user@domain) for domain accounts).
        type: str
        required: true
      password:
        description:
          - The password of O(windows_host.username). Keep it in a vault.
        type: str
      transport:
        description:
          - V(https) (certificate checked, see O(windows_host.ca_path)) or V(http) (only with message encryption, so
            O(windows_host.auth) other than V(basic)).
        type: str
        choices: [https, http]
        default: https
      auth:
        description:
          - The authentication protocol, as C(pypsrp) offers them.
        type: str
        choices: [negotiate, ntlm, kerberos, credssp, basic]
        default: negotiate
      ca_path:
        description:
          - A CA bundle (PEM) to verify the Windows host's certificate with, for a private CA.
        type: path
      validate_certs:
        description:
          - Verify the Windows host's certificate. Turn off only in labs.
        type: bool
        default: true
      connection_timeout:
        description:
          - Seconds to wait for the connection to the Windows host, from 1 to 3600.
        type: int
        default: 30
      operation_timeout:
        description:
          - Seconds the Windows host may take to answer one WS-Management request, from 1 to 3600.
        type: int
        default: 20
requirements:
  - pypsrp
"""
