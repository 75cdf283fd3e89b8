# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The platform dicts of every job module: exactly the dict of the chosen `platform` is set.
    DOCUMENTATION = r"""
options:
  vsphere:
    description:
      - Connection and placement on vCenter, for O(platform=vsphere).
      - Set only the dict of the chosen O(platform); another platform's dict is an error naming both.
    type: dict
    suboptions:
      host:
        description: The vCenter host name or address.
        type: str
        required: true
      port:
        description: The vCenter HTTPS port, from 1 to 65535.
        type: int
        default: 443
      credential_id:
        description: The credential wallet id of the vCenter account (see M(citrix_community.ips.ips_credential)).
        type: str
        required: true
      datacenter:
        description: The datacenter the compositing engine VM runs in.
        type: str
      cluster:
        description: The cluster the compositing engine VM runs in (or O(vsphere.host_system)).
        type: str
      host_system:
        description: The ESXi host the compositing engine VM runs on (or O(vsphere.cluster)).
        type: str
      datastore:
        description: The datastore for the compositing engine VM and the prepared disk.
        type: str
      network:
        description: The port group the compositing engine VM attaches to.
        type: str
      resource_pool:
        description: The resource pool of the compositing engine VM.
        type: str
      folder:
        description: The VM folder of the compositing engine VM.
        type: str

      ssl_ca_certificate:
        description:
          - The PEM CA certificate that signed the vCenter certificate, when it is not publicly trusted.
        type: str
      ssl_fingerprint:
        description:
          - The SHA-1 fingerprint of the vCenter certificate (20 hex pairs, colons optional), to trust that certificate alone.
        type: str
      ssl_no_check_hostname:
        description:
          - Do not check that the vCenter certificate names the host. Needs C(ssl_ca_certificate) or C(ssl_fingerprint).
        type: bool

  xenserver:
    description:
      - Connection and placement on XenServer, for O(platform=xenserver).
    type: dict
    suboptions:
      host:
        description: The XenServer pool coordinator host name or address.
        type: str
        required: true
      port:
        description: The XenServer HTTPS port, from 1 to 65535.
        type: int
        default: 443
      credential_id:
        description: The credential wallet id of the XenServer account.
        type: str
        required: true
      network:
        description: The network the compositing engine VM attaches to.
        type: str
      storage_repository_uuid:
        description: The UUID of the storage repository for the compositing engine VM and its disks.
        type: str

      ssl_ca_certificate:
        description:
          - The PEM CA certificate that signed the XenServer certificate, when it is not publicly trusted.
        type: str
      ssl_fingerprint:
        description:
          - The SHA-1 fingerprint of the XenServer certificate (20 hex pairs, colons optional), to trust that certificate alone.
        type: str
      ssl_no_check_hostname:
        description:
          - Do not check that the XenServer certificate names the host. Needs C(ssl_ca_certificate) or C(ssl_fingerprint).
        type: bool

  nutanix:
    description:
      - Connection and placement on Nutanix AHV (Prism Element), for O(platform=nutanix).
    type: dict
    suboptions:
      host:
        description: The Prism host name or address.
        type: str
        required: true
      port:
        description: The Prism HTTPS port, from 1 to 65535.
        type: int
        default: 9440
      credential_id:
        description: The credential wallet id of the Prism account.
        type: str
        required: true
      network:
        description: The network the compositing engine VM attaches to.
        type: str
      storage_container:
        description: The storage container for the compositing engine VM and its disks.
        type: str

      ssl_ca_certificate:
        description:
          - The PEM CA certificate that signed the Prism certificate, when it is not publicly trusted.
        type: str
      ssl_fingerprint:
        description:
          - The SHA-1 fingerprint of the Prism certificate (20 hex pairs, colons optional), to trust that certificate alone.
        type: str
      ssl_no_check_hostname:
        description:
          - Do not check that the Prism certificate names the host. Needs C(ssl_ca_certificate) or C(ssl_fingerprint).
        type: bool

  azure:
    description:
      - Subscription, placement and compositing engine settings on Azure, for O(platform=azure).
    type: dict
    suboptions:
      credential_id:
        description: The credential wallet id of the Azure service principal.
        type: str
        required: true
      subscription_id:
        description: The Azure subscription id.
        type: str
        required: true
      location:
        description: The Azure region, for example C(eastus).
        type: str
      resource_group:
        description: The resource group of the disk the job reads or writes.
        type: str
      vm_resource_group:
        description: The resource group the compositing engine VM is created in.
        type: str
      vnet_resource_group:
        description: The resource group of the virtual network.
        type: str
      vnet:
        description: The virtual network of the compositing engine VM.
        type: str
      subnet:
        description: The subnet of the compositing engine VM.
        type: str
      use_public_ip:
        description: Give the compositing engine VM a public IP address.
        type: bool
      ce_vm_sku:
        description: The VM size of the compositing engine.
        type: str
        default: Standard_D2S_v3
      network_isolation:
        description: Run the compositing engine VM without network access beyond what the job needs.
        type: bool
  aws:
    description:
      - Region, placement and compositing engine settings on AWS, for O(platform=aws).
    type: dict
    suboptions:
      credential_id:
        description: The credential wallet id of the AWS principal.
        type: str
        required: true
      region:
        description: The AWS region, for example C(us-east-2).
        type: str
        required: true
      subnet_id:
        description: The subnet of the compositing engine instance.
        type: str
      security_group_ids:
        description: The security groups of the compositing engine instance's network interface.
        type: list
        elements: str
      use_public_ip:
        description: Give the compositing engine instance a public IP address.
        type: bool
      ce_instance_type:
        description: The EC2 instance type of the compositing engine.
        type: str
  gcp:
    description:
      - Zone, network and compositing engine settings on Google Cloud, for O(platform=gcp).
    type: dict
    suboptions:
      credential_id:
        description: The credential wallet id of the GCP service account.
        type: str
        required: true
      zone:
        description: The zone, for example C(us-east4-a).
        type: str
        required: true
      vpc_network:
        description: The VPC network of the compositing engine VM.
        type: str
      vpc_subnet:
        description: The subnet, as C(regions/<region>/subnetworks/<name>).
        type: str
      network_tags:
        description: Network tags put on the compositing engine VM (firewall rules select it by them).
        type: list
        elements: str
      use_public_ip:
        description: Give the compositing engine VM a public IP address.
        type: bool
      ce_machine_type:
        description: The machine type of the compositing engine VM.
        type: str
"""
