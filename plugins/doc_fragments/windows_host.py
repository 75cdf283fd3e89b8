# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Windows host reached over PowerShell Remoting (module_utils/_psrp.py): the App Layering backend runs the
    # Citrix.AppLayering module there, ips_pvs_vdisk the PVS console's snap-in. The two variables differ in what the
    # host runs and in whether the option is required; their sub-options are the same, written out in each because
    # ansible-test's yamllint reads fragments as literal strings (tests/unit/test_doc_fragments.py keeps them equal).

    # Every module with the appliance backend (citrix_community.ips.windows_host.appliance_host), and ips_job_wait
    APPLIANCE_HOST = r"""
options:
  windows_host:
    description:
      - The Windows host that runs the C(Citrix.AppLayering) module (Windows PowerShell 5.1), reached over PowerShell
        Remoting (WinRM), with C(backend=appliance). Needs the C(pypsrp) Python library on the host that runs the task.
      - Only cmdlets with named parameters are sent, never script text, so a value such as a disk name reaches the cmdlet
        as a literal string.
    type: dict
    version_added: 0.2.0
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
          - An answer later than this + 10 s counts as lost; a read-only call (a task poll, a look-up) without a complete
            answer within three times that is made again.
        type: int
        default: 20
requirements:
  - pypsrp (with C(backend=appliance))
"""

    # ips_pvs_vdisk (citrix_community.ips.windows_host.pvs_console)
    PVS_CONSOLE = r"""
options:
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
          - An answer later than this + 10 s counts as lost; a read-only call (a task poll, a look-up) without a complete
            answer within three times that is made again.
        type: int
        default: 20
requirements:
  - pypsrp
"""
