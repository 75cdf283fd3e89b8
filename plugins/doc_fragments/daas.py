# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of the modules that talk to Citrix DaaS (machine catalogs, image management).
    DOCUMENTATION = r"""
options:
  daas_url:
    description:
      - The base URL of the Citrix DaaS REST API, for example C(https://api.cloud.com/cvad/manage), or on premises a
        Delivery Controller's Orchestration API, C(https://ddc.example.com/citrix/orchestration/api) (with O(daas_username)).
      - When not set, C(cvad/manage) on the Citrix Cloud API host (O(region) or O(api_url)) is used.
      - In the cloud, the token is asked for at the same host, with the same API client (O(client_id), O(client_secret)).
      - If not set, the value of the E(CITRIX_DAAS_URL) environment variable is used.
    type: str
  daas_username:
    description:
      - On premises, a Citrix administrator (C(DOMAIN\user)) the Delivery Controller at O(daas_url) signs in with
        HTTP Basic (C(POST <daas_url>/tokens)). Setting it chooses the on-premises API; the customer id is then
        C(CitrixOnPremises) and the Citrix Cloud options are not needed.
      - If not set, the value of the E(CITRIX_DAAS_USERNAME) environment variable is used.
    type: str
  daas_password:
    description:
      - The password of O(daas_username). Never logged or returned.
      - If not set, the value of the E(CITRIX_DAAS_PASSWORD) environment variable is used.
    type: str
  site_id:
    description:
      - The DaaS site id, sent as C(Citrix-InstanceId).
      - When not set, the first site of the customer in the API's C(/me) answer is used.
      - If not set, the value of the E(CITRIX_DAAS_SITE_ID) environment variable is used.
    type: str
"""

    # The artifact options of the modules that point MCS at a prepared image.
    ARTIFACT = r"""
options:
  master_image_path:
    description:
      - The image as an XDPath in the catalog's hosting unit, for example
        C(XDHyp:\HostingUnits\azure-unit\image.folder\rg.resourcegroup\win11.manageddisk).
      - One of O(master_image_path), O(azure_disk), O(aws_ami) and O(gcp_image) names the image.
    type: str
  azure_disk:
    description:
      - The prepared Azure managed disk (what an Azure prepare produces), used as is.
    type: dict
    suboptions:
      resource_group:
        description: Its resource group.
        type: str
        required: true
      name:
        description: The disk's name.
        type: str
        required: true
  aws_ami:
    description:
      - The id of the AMI made from the prepared snapshot (M(citrix_community.ips.ips_aws_image)).
    type: str
  gcp_image:
    description:
      - The name of the GCP image of the prepared disk.
    type: str
  gcp_instance_template:
    description:
      - Refused with a message. On Google Cloud, MCS takes a VM, its snapshot or a disk image as the master image.
        An instance template is a machine profile. Give the image as O(gcp_image), and give the template as
        O(citrix_community.ips.ips_mcs_catalog#module:gcp_machine_profile) of M(citrix_community.ips.ips_mcs_catalog) or
        O(citrix_community.ips.ips_mcs_catalog_image#module:gcp_machine_profile) of M(citrix_community.ips.ips_mcs_catalog_image).
    type: str
notes:
  - The image is looked up among the hosting unit's resources through the service's cache, then once more with
    C(noCache=true), so an artifact made minutes ago is found. When the service still answers that it cannot find it,
    the module refreshes the cache and submits once more.
"""

    # The machine-profile options of the modules that create a catalog or change its image.
    PROFILE = r"""
options:
  machine_profile_path:
    description:
      - The catalog's machine profile as an XDPath in its hosting unit, sent as C(MachineProfilePath).
      - The hosting unit must list it. The look-up is the same as for the image, through the cache and then with C(noCache=true).
    type: str
  gcp_machine_profile:
    description:
      - The name of a GCP instance template to use as the catalog's machine profile, for example one made with
        M(citrix_community.ips.ips_gcp_instance_template). It is found as C(instanceTemplates.folder\<name>.template)
        in the hosting unit. The folder and suffix are inferred.
      - Mutually exclusive with O(machine_profile_path).
    type: str
"""
