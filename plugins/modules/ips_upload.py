#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_upload
short_description: Upload a VHD or VHDX to an Azure managed disk, an AWS EBS snapshot or a GCP image
version_added: 0.1.0
description:
  - Reads the image's allocation table, reads each allocated byte once in file order, skips all-zero data and sends the
    rest concurrently to the target, with bounded memory whatever the disk size.
  - B(Azure) a managed disk created for upload (exact size, SKU, zone, tags, Hyper-V generation), written with Put Page
    through a write SAS, a synthesised fixed-VHD footer, access revoked.
  - B(AWS) an EBS snapshot written with the EBS direct APIs (512 KiB blocks with SHA-256, LINEAR aggregate checksum), optionally a volume.
  - B(GCP) a gzip'd sparse tar of C(disk.raw) in a Cloud Storage object, then a Compute Engine image.
  - A local journal (O(journal_dir)) lets a killed or failed upload resume; it re-sends at most what was in flight.
  - Idempotent - a complete target tagged with the same source fingerprint is left alone (C(changed=false)).
  - Long uploads - run the task with C(async)/C(poll) and read O(progress_file) (see docs/upload.md).
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.disk_source
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - Reads only the image's headers and reports the plan (bytes to read, the most bytes to send, the target size) and the action.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action_group:
    description:
      - Use C(group/citrix_community.ips.aws), C(group/citrix_community.ips.azure) or C(group/citrix_community.ips.gcp)
        in C(module_defaults) to set the cloud's sign-in once.
    support: full
    membership:
      - citrix_community.ips.aws
      - citrix_community.ips.azure
      - citrix_community.ips.gcp
requirements:
  - smbprotocol (for smb:// sources)
  - azure-identity, azure-mgmt-compute, azure-storage-blob (target azure)
  - boto3 (target aws)
  - google-auth, google-cloud-storage (target gcp)
options:
  target:
    description:
      - Where the image goes - V(azure), V(aws) or V(gcp), each with its options in the dict of the same name.
      - A list of them (for example V([azure, aws, gcp])) fans out - the source is read once and each allocated block goes to
        every target that still needs it. Each target keeps its own journal, resume and idempotency - a re-run leaves finished
        targets alone (C(changed=false) for them) and resumes the others.
      - In a fan-out the targets share the bounded buffer pool - the slowest target sets the pace of the reads (back-pressure),
        so memory stays bounded. A GCP archive part whose bytes are spread over more reads than its part buffers hold is
        sent after the shared pass, reading only that part.
      - A target that fails does not stop the others - the task fails at the end naming the failed targets, with every
        target's result in RV(targets).
      - A single string returns the single-target shape; a list returns RV(targets) (one result per target) and totals.
    type: raw
    required: true
  overwrite:
    description:
      - V(never) fails when the target exists with another source; V(different) replaces a target made from another source
        and keeps one made from this source; V(always) uploads again.
    type: str
    default: different
    choices: [never, different, always]
  verify:
    description: Read back what was sent and compare (Azure - the data windows and the footer; AWS - every block's SHA-256; GCP - object and image size).
    type: bool
    default: false
  concurrency:
    description: Requests in flight, from 1 to 64. Default - Azure 8, AWS 16, GCP 4.
    type: int
  request_timeout:
    description: Seconds one request may take before it is retried, from 1 to 3600.
    type: float
    default: 120
  wait_timeout:
    description:
      - Seconds each cloud-side operation may take - Azure disk creation, access grant and revocation; the EBS snapshot
        reaching C(completed) and its volume; the GCP image creation.
      - When they run out the task fails naming this option; nothing is cancelled, and running the task again finds the
        target and resumes the upload.
      - From 1 to 604800 (a week).
    type: int
    default: 3600
  retries:
    description: Tries per request (throttling and server errors back off exponentially), from 1 to 100.
    type: int
    default: 8
  rate_limit:
    description:
      - Cap on the payload sent, in MiB/s (Azure uploads run at the disk tier's ingest rate, about 60 MB/s for Standard HDD sizes
        up to 4 TiB; capping there avoids provoking 500/503 throttling). Azure and AWS only.
      - From 0.01 to 1048576; leave it out for no cap.
    type: float
  journal_dir:
    description: Folder of the resume journals. Default C(~/.cache/citrix_community.ips/uploads).
    type: path
  progress_file:
    description: A JSON file rewritten about once a second with phase, percent, bytes, rate (MiB/s) and ETA.
    type: path
  azure:
    description: The Azure managed disk (O(target=azure)).
    type: dict
    suboptions:
      subscription_id: {description: "Subscription id. Default O(azure_subscription_id).", type: str}
      resource_group: {description: "Resource group of the disk.", type: str, required: true}
      location: {description: "Azure region of the disk.", type: str, required: true}
      disk_name: {description: "Name of the managed disk.", type: str, required: true}
      tenant_id: {description: "Entra tenant. Default O(azure_tenant).", type: str, aliases: [tenant]}
      client_id: {description: "Service principal id. Default O(azure_client_id).", type: str}
      client_secret: {description: "Service principal secret. Default O(azure_secret).", type: str, aliases: [secret]}
      auth_source:
        description:
          - How to sign in. Default O(azure_auth_source), else V(auto) - the client secret when one is given, else the
            certificate when O(azure.x509_certificate_path) is given, else azure-identity's default chain (the
            E(AZURE_*) environment, workload identity, managed identity, Azure CLI).
          - V(client_secret) and V(certificate) need O(azure.tenant_id) and O(azure.client_id); V(msi) is the managed
            identity of the host (O(azure.client_id) picks a user-assigned one); V(cli) is the signed-in Azure CLI;
            V(workload_identity) is a federated token (E(AZURE_FEDERATED_TOKEN_FILE), as on AKS).
        type: str
        choices: [auto, client_secret, certificate, msi, cli, workload_identity]
      x509_certificate_path:
        description: A PEM (or PKCS12) file with the service principal's certificate and private key. Default O(azure_x509_certificate_path).
        type: path
      x509_certificate_password:
        description: The password of that file's key. Default O(azure_x509_certificate_password).
        type: str
      authority: {description: "Entra authority host for sovereign or private clouds.", type: str}
      arm_endpoint: {description: "Resource Manager base URL for sovereign or private clouds.", type: str}
      arm_scope:
        description:
          - The token scope for Resource Manager. Sovereign clouds need theirs, for example
            C(https://management.usgovcloudapi.net/.default) with O(azure.arm_endpoint=https://management.usgovcloudapi.net).
        type: str
        default: https://management.azure.com/.default
      sas_duration:
        description:
          - Seconds the disk's write access (SAS) stays valid. It must outlast the upload; the default is a day per 100 GB of
            disk, at least a day.
          - From 300 to 2147483647.
        type: int
      ca_path: {description: "CA bundle (PEM) to verify the endpoints with.", type: path}
      sku: {description: "Disk SKU.", type: str, default: Standard_LRS}
      zone: {description: "Availability zone.", type: str}
      hyper_v_generation: {description: "V1 or V2 (UEFI).", type: str, choices: [V1, V2]}
      os_type: {description: "Windows or Linux.", type: str, choices: [Windows, Linux]}
      tags: {description: "Extra disk tags.", type: dict}
  aws:
    description: The EBS snapshot (O(target=aws)).
    type: dict
    suboptions:
      region:
        description:
          - AWS region. Default O(aws_region), else the profile's region. There is no built-in default - without a region
            the task fails naming the options and variables to set.
        type: str
      profile: {description: "A named profile of the shared AWS config and credentials files, instead of keys. Default O(aws_profile).", type: str}
      access_key_id: {description: "Access key. Default O(aws_access_key_id).", type: str}
      secret_access_key: {description: "Secret key. Default O(aws_secret_access_key).", type: str}
      session_token: {description: "Session token of temporary credentials. Default O(aws_session_token).", type: str}
      ebs_endpoint_url: {description: "EBS direct API endpoint (private or test clouds).", type: str}
      ec2_endpoint_url: {description: "EC2 endpoint (private or test clouds).", type: str}
      snapshot_name: {description: "The Name tag of the snapshot; a re-run finds the snapshot by it.", type: str, required: true}
      description: {description: "Snapshot description.", type: str}
      snapshot_timeout: {description: "Minutes EBS keeps a pending snapshot without activity, from 10 to 4320.", type: int, default: 360}
      encrypted: {description: "Encrypt the snapshot.", type: bool, default: false}
      kms_key_arn: {description: "KMS key for encryption.", type: str}
      create_volume: {description: "Also create a volume from the snapshot.", type: bool, default: false}
      availability_zone: {description: "Zone of that volume.", type: str}
      volume_type: {description: "Type of that volume.", type: str, default: gp3}
      tags: {description: "Extra tags.", type: dict}
  gcp:
    description: The Cloud Storage object and Compute Engine image (O(target=gcp)).
    type: dict
    suboptions:
      project: {description: "Project id. Default O(gcp_project); one of the two is required.", type: str}
      bucket: {description: "An existing bucket for the archive.", type: str, required: true}
      image_name: {description: "Name of the image.", type: str, required: true}
      object: {description: "Object name of the archive. Default C(<image_name>.tar.gz).", type: str}
      service_account_key:
        description: Service account key (JSON text or dict). Default O(gcp_service_account_contents).
        type: raw
        aliases: [service_account_contents]
      service_account_file: {description: "Service account key file. Default O(gcp_service_account_file).", type: path}
      token:
        description:
          - An OAuth access token instead of a key. Default O(gcp_access_token). Without a token or a key the host's
            application default credentials are used.
        type: str
        aliases: [access_token]
      storage_endpoint: {description: "Cloud Storage endpoint (private or test clouds).", type: str}
      compute_endpoint: {description: "Compute Engine endpoint (private or test clouds).", type: str}
      family: {description: "Image family.", type: str}
      description: {description: "Image description.", type: str}
      labels: {description: "Extra image labels.", type: dict}
      guest_os_features: {description: "Guest OS features (e.g. WINDOWS, UEFI_COMPATIBLE).", type: list, elements: str}
      storage_location: {description: "Image storage location.", type: str}
      compression_level: {description: "gzip level, from 1 (fastest) to 9.", type: int, default: 6}
      delete_object: {description: "Delete the archive object once the image is ready.", type: bool, default: false}
  aws_region:
    description:
      - The AWS region when O(aws.region) is not set, as amazon.aws names it.
      - The C(citrix_community.ips.aws) action group lets C(module_defaults) set this and the other C(aws_*) options once for
        ips_upload and ips_aws_image.
      - Falls back to E(AWS_REGION), E(AWS_DEFAULT_REGION) or E(EC2_REGION).
    type: str
  aws_profile:
    description:
      - The AWS profile when O(aws.profile) is not set. It excludes O(aws_access_key_id)/O(aws_secret_access_key).
      - Falls back to E(AWS_PROFILE) or E(AWS_DEFAULT_PROFILE).
    type: str
  aws_access_key_id:
    description:
      - The access key when O(aws.access_key_id) is not set. Without keys or a profile, boto3 finds credentials itself
        (instance or task role, web identity, SSO).
      - Falls back to E(AWS_ACCESS_KEY_ID), E(AWS_ACCESS_KEY) or E(EC2_ACCESS_KEY).
    type: str
  aws_secret_access_key:
    description:
      - The secret key when O(aws.secret_access_key) is not set.
      - Falls back to E(AWS_SECRET_ACCESS_KEY), E(AWS_SECRET_KEY) or E(EC2_SECRET_KEY).
    type: str
  aws_session_token:
    description:
      - The session token of temporary credentials when O(aws.session_token) is not set. E(AWS_SECURITY_TOKEN) is what AWX's
        Amazon Web Services credential injects.
      - Falls back to E(AWS_SESSION_TOKEN), E(AWS_SECURITY_TOKEN) or E(EC2_SECURITY_TOKEN).
    type: str
  azure_subscription_id:
    description:
      - The subscription when O(azure.subscription_id) is not set; the environment variables are azure.azcollection's.
      - The C(citrix_community.ips.azure) action group lets C(module_defaults) set the C(azure_*) options once.
      - Falls back to E(AZURE_SUBSCRIPTION_ID).
    type: str
  azure_tenant:
    description:
      - The Entra tenant when O(azure.tenant_id) is not set.
      - Falls back to E(AZURE_TENANT).
    type: str
  azure_client_id:
    description:
      - The service principal when O(azure.client_id) is not set.
      - Falls back to E(AZURE_CLIENT_ID).
    type: str
  azure_secret:
    description:
      - The service principal's secret when O(azure.client_secret) is not set.
      - Falls back to E(AZURE_SECRET).
    type: str
  azure_auth_source:
    description: How to sign in to Azure when O(azure.auth_source) is not set (see there).
    type: str
    choices: [auto, client_secret, certificate, msi, cli, workload_identity]
  azure_x509_certificate_path:
    description:
      - The service principal's certificate file when O(azure.x509_certificate_path) is not set.
      - Falls back to E(AZURE_CLIENT_CERTIFICATE_PATH).
    type: path
  azure_x509_certificate_password:
    description:
      - The password of that file's key when O(azure.x509_certificate_password) is not set.
      - Falls back to E(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  gcp_project:
    description:
      - The project when O(gcp.project) is not set, as google.cloud reads it.
      - The C(citrix_community.ips.gcp) action group lets C(module_defaults) set the C(gcp_*) options once.
      - Falls back to E(GCP_PROJECT).
    type: str
  gcp_access_token:
    description:
      - An OAuth access token when O(gcp.token) is not set.
      - Falls back to E(GCP_ACCESS_TOKEN) or E(GOOGLE_OAUTH_ACCESS_TOKEN).
    type: str
  gcp_service_account_file:
    description:
      - A service account key file when O(gcp.service_account_file) is not set.
      - Falls back to E(GCP_SERVICE_ACCOUNT_FILE) or E(GOOGLE_APPLICATION_CREDENTIALS).
    type: path
  gcp_service_account_contents:
    description:
      - A service account key (JSON text or dict) when O(gcp.service_account_key) is not set.
      - Falls back to E(GCP_SERVICE_ACCOUNT_CONTENTS).
    type: raw
seealso:
  - module: citrix_community.ips.ips_disk_info
"""

EXAMPLES = r"""
- name: Upload a PVS vDisk from a share to an Azure managed disk, in the background with progress
  citrix_community.ips.ips_upload:
    source:
      location: smb://fs01.example.com/vdisks/base.vhdx
      username: EXAMPLE\svc-images
      password: "{{ vault_smb_password }}"
    target: azure
    azure:
      resource_group: rg-images
      location: westeurope
      disk_name: base-2026-01
      sku: Premium_LRS
      hyper_v_generation: V2
    progress_file: /var/lib/ips/progress/upload-base.json
  async: 14400
  poll: 30

- name: Upload to an EBS snapshot and make a volume, signing in with a named profile
  citrix_community.ips.ips_upload:
    source: {location: /mnt/images/base.vhd}
    target: aws
    aws:
      region: eu-west-1
      profile: images
      snapshot_name: base-2026-01
      create_volume: true
      availability_zone: eu-west-1a

- name: Upload to a Compute Engine image through a Cloud Storage bucket, with a service account key file
  citrix_community.ips.ips_upload:
    source: {location: /mnt/images/base.vhdx}
    target: gcp
    gcp:
      project: images-prod
      bucket: images-prod-upload
      image_name: base-2026-01
      service_account_file: /etc/ips/gcp-uploader.json
      guest_os_features: [WINDOWS, UEFI_COMPATIBLE]
      delete_object: true

- name: One image to three clouds, the share read once (a re-run resumes or skips each target on its own)
  citrix_community.ips.ips_upload:
    source:
      location: smb://files.example.com/images/base-2026-01.vhdx
      username: svc-images
      password: "{{ vault_smb_password }}"
    target: [azure, aws, gcp]
    azure:
      resource_group: rg-images
      location: westeurope
      disk_name: base-2026-01
    aws:
      region: eu-west-1
      snapshot_name: base-2026-01
    gcp:
      project: images-prod
      bucket: images-prod-upload
      image_name: base-2026-01
  register: fan_out
  # fan_out.targets.azure.disk_id, fan_out.targets.aws.snapshot_id, fan_out.targets.gcp.image_self_link

- name: Sign in once per cloud for the whole play (the aws, azure and gcp action groups)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/citrix_community.ips.aws:
      aws_region: eu-west-1
      aws_access_key_id: "{{ aws_key }}"
      aws_secret_access_key: "{{ vault_aws_secret }}"
    group/citrix_community.ips.azure:
      azure_subscription_id: "{{ azure_subscription }}"
      azure_tenant: "{{ azure_tenant }}"
      azure_client_id: "{{ azure_app }}"
      azure_secret: "{{ vault_azure_secret }}"
  tasks:
    - name: To AWS
      citrix_community.ips.ips_upload:
        source: {location: /mnt/images/base.vhd}
        target: aws
        aws: {snapshot_name: base-2026-01}

    - name: To Azure
      citrix_community.ips.ips_upload:
        source: {location: /mnt/images/base.vhd}
        target: azure
        azure: {resource_group: rg-images, location: westeurope, disk_name: base-2026-01, hyper_v_generation: V2}
"""

RETURN = r"""
changed: {description: "Whether bytes were uploaded (or, in check mode, would be).", returned: always, type: bool, sample: true}
target: {description: "azure, aws or gcp.", returned: when O(target) is a single string, type: str, sample: "azure"}
targets:
  description:
    - A fan-out (O(target) is a list) - one result per target, keyed by target name, each with the keys a single-target upload
      returns; a failed one has C(failed=true) and C(msg), and C(bytes_read_shared) / C(bytes_read_own) split its reads into the
      shared pass and its own second pass.
  returned: when O(target) is a list
  type: dict
  sample: {"azure": {"changed": true, "disk_id": "/subscriptions/.../disks/base", "bytes_sent": 5368709632},
           "aws": {"changed": false, "snapshot_id": "snap-0123456789abcdef0"}}
failed_targets:
  description: A fan-out - the names of the targets that failed (the task fails when this is not empty).
  returned: when O(target) is a list
  type: list
  elements: str
  sample: ["gcp"]
existing: {description: "What was found before (complete, partial, different or null).", returned: always, type: str, sample: "partial"}
fingerprint: {description: "The source fingerprint the target is tagged with.", returned: always, type: str, sample: "e5f6c55dc3bba08cf7ef1ad15f67d1567d10afb8"}
disk_id:
  description: Azure disk resource id.
  returned: target azure and not check mode
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/disks/base-2026-01
snapshot_id: {description: "EBS snapshot id.", returned: target aws and not check mode, type: str, sample: "snap-0123456789abcdef0"}
volume_id: {description: "EBS volume id (aws.create_volume).", returned: when created, type: str, sample: "vol-0123456789abcdef0"}
image_self_link:
  description: GCP image URL.
  returned: target gcp and not check mode
  type: str
  sample: https://www.googleapis.com/compute/v1/projects/images-prod/global/images/base-2026-01
object: {description: "The gs:// archive object.", returned: target gcp, type: str, sample: "gs://images-prod-upload/base-2026-01.tar.gz"}
archive_size:
  description:
    - GCP - bytes of the composed gs:// object (the gzip'd sparse tar of C(disk.raw)), as Cloud Storage holds it; a re-run that
      resumes from an object composed by an earlier run reports that object's size.
  returned: target gcp, when uploaded
  type: int
  sample: 4219904
retries:
  description:
    - Requests sent again after a transient failure (throttling, 5xx, a dropped connection, an answer later than O(request_timeout))
      - of the data writes only (Azure Put Page, EBS PutSnapshotBlock, GCP part uploads); retries of the other calls are not counted.
  returned: when uploaded
  type: int
  sample: 3
bytes_read: {description: "Bytes read from the image.", returned: always, type: int, sample: 24696061952}
bytes_sent: {description: "Bytes sent, the Azure footer and the GCP archive's trailer included.", returned: always, type: int, sample: 21474836992}
worker:
  description:
    - Check mode - the upload to this target that runs on this host right now (the process holding its lock), or null when
      none runs. A killed upload releases its lock as it dies, so a re-run sees at once that it is gone.
  returned: check mode
  type: dict
  sample: {"pid": 4242, "host": "ctl01", "started": 1767772800.5}
page_ranges_checked:
  description:
    - Azure - the page ranges the disk held after the upload, checked against the windows of the source that hold data before the
      footer was written (a window sent but empty, or data where the source has none, fails the task).
  returned: target azure, when uploaded
  type: int
  sample: 412
throughput_mib_s: {description: "Bytes read per second of the whole task, in MiB/s.", returned: when uploaded, type: float, sample: 182.4}
duration: {description: "Seconds of the upload.", returned: when uploaded, type: float, sample: 129.1}
resumed: {description: "Whether a journal of an earlier run was resumed.", returned: always, type: bool, sample: false}
plan:
  description: Check mode - bytes_to_read, bytes_to_send_max, target_size.
  returned: check mode
  type: dict
  sample: {"bytes_to_read": 24696061952, "bytes_to_send_max": 24696061952, "target_size": 136365212160}
verify: {description: "What verify checked.", returned: verify=true, type: dict, sample: {"bytes_checked": 21474836480, "ok": true}}"""

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils._aws_auth import ENV as AWS_ENV
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import AUTH_SOURCES as AZURE_AUTH_SOURCES
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import auth_source as azure_auth_source
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.checks import option_problems
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.options import SOURCE_SPEC, open_disk


def _s(**kw):
    return dict(type="str", **kw)


SPEC = dict(
    source=SOURCE_SPEC,
    target=dict(type="raw", required=True),
    overwrite=_s(default="different", choices=["never", "different", "always"]),
    verify=dict(type="bool", default=False),
    concurrency=dict(type="int"),
    request_timeout=dict(type="float", default=120),
    wait_timeout=dict(type="int", default=3600),
    retries=dict(type="int", default=8),
    rate_limit=dict(type="float"),
    journal_dir=dict(type="path"),
    progress_file=dict(type="path"),
    azure=dict(type="dict", options=dict(
        subscription_id=_s(), resource_group=_s(required=True),
        location=_s(required=True), disk_name=_s(required=True), tenant_id=_s(aliases=["tenant"]),
        client_id=_s(), client_secret=_s(no_log=True, aliases=["secret"]),
        auth_source=_s(choices=list(AZURE_AUTH_SOURCES)), x509_certificate_path=dict(type="path"),
        x509_certificate_password=_s(no_log=True), authority=_s(), arm_endpoint=_s(), arm_scope=_s(default="https://management.azure.com/.default"),
        sas_duration=dict(type="int"), ca_path=dict(type="path"), sku=_s(default="Standard_LRS"), zone=_s(),
        hyper_v_generation=_s(choices=["V1", "V2"]), os_type=_s(choices=["Windows", "Linux"]), tags=dict(type="dict"))),
    aws=dict(type="dict", options=dict(
        region=_s(), profile=_s(), access_key_id=_s(), secret_access_key=_s(no_log=True), session_token=_s(no_log=True),
        ebs_endpoint_url=_s(), ec2_endpoint_url=_s(),
        snapshot_name=_s(required=True), description=_s(), snapshot_timeout=dict(type="int", default=360),
        encrypted=dict(type="bool", default=False), kms_key_arn=_s(no_log=False), create_volume=dict(type="bool", default=False),
        availability_zone=_s(), volume_type=_s(default="gp3"), tags=dict(type="dict"))),
    gcp=dict(type="dict", options=dict(
        project=_s(), bucket=_s(required=True), image_name=_s(required=True), object=_s(),
        service_account_key=dict(type="raw", no_log=True, aliases=["service_account_contents"]),
        service_account_file=dict(type="path"), token=_s(no_log=True, aliases=["access_token"]), storage_endpoint=_s(),
        compute_endpoint=_s(), family=_s(), description=_s(), labels=dict(type="dict"),
        guest_os_features=dict(type="list", elements="str"), storage_location=_s(), compression_level=dict(type="int", default=6),
        delete_object=dict(type="bool", default=False))),
    # Each cloud's sign-in, also as top-level options: what module_defaults of the group/citrix_community.ips.<cloud>
    # action groups set once for a play (module_defaults replace a dict option whole, so they cannot fill in the aws,
    # azure or gcp dict of a task). A key set in the task's dict wins; the environment comes last.
    aws_region=_s(fallback=(env_fallback, AWS_ENV["region"])),
    aws_profile=_s(fallback=(env_fallback, AWS_ENV["profile"])),
    aws_access_key_id=_s(fallback=(env_fallback, AWS_ENV["access_key_id"])),
    aws_secret_access_key=_s(no_log=True, fallback=(env_fallback, AWS_ENV["secret_access_key"])),
    aws_session_token=_s(no_log=True, fallback=(env_fallback, AWS_ENV["session_token"])),
    azure_subscription_id=_s(fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
    azure_tenant=_s(fallback=(env_fallback, ["AZURE_TENANT"])),
    azure_client_id=_s(fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
    azure_secret=_s(no_log=True, fallback=(env_fallback, ["AZURE_SECRET"])),
    azure_auth_source=_s(choices=list(AZURE_AUTH_SOURCES)),
    azure_x509_certificate_path=dict(type="path", fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PATH"])),
    azure_x509_certificate_password=_s(no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PASSWORD"])),
    gcp_project=_s(fallback=(env_fallback, ["GCP_PROJECT"])),
    gcp_access_token=_s(no_log=True, fallback=(env_fallback, ["GCP_ACCESS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN"])),
    gcp_service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE", "GOOGLE_APPLICATION_CREDENTIALS"])),
    gcp_service_account_contents=dict(type="raw", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])),
)

# The target dict's key <- the top-level option that fills it when the task leaves it out.
SIGN_IN = {
    "aws": {"region": "aws_region", "profile": "aws_profile", "access_key_id": "aws_access_key_id",
            "secret_access_key": "aws_secret_access_key", "session_token": "aws_session_token"},
    "azure": {"subscription_id": "azure_subscription_id", "tenant_id": "azure_tenant", "client_id": "azure_client_id",
              "client_secret": "azure_secret", "auth_source": "azure_auth_source", "x509_certificate_path": "azure_x509_certificate_path",
              "x509_certificate_password": "azure_x509_certificate_password"},
    "gcp": {"project": "gcp_project", "token": "gcp_access_token", "service_account_file": "gcp_service_account_file",
            "service_account_key": "gcp_service_account_contents"},
}
# What each target imports (requirements.txt has them all): one message names every package the chosen target needs.
PACKAGES = {"azure": "azure-identity azure-mgmt-compute azure-storage-blob", "aws": "boto3", "gcp": "google-auth google-cloud-storage"}

REQUIRED = {
    "azure": (("subscription_id", "AZURE_SUBSCRIPTION_ID"),),
    "gcp": (("project", "GCP_PROJECT"),),
}
# Azure sign-ins that name a service principal need its tenant and client id.
AZURE_PRINCIPAL = (("tenant_id", "AZURE_TENANT"), ("client_id", "AZURE_CLIENT_ID"))


def target_options(p, name):
    """The target's dict, its sign-in keys filled from the top-level options (module_defaults, environment)."""
    options = dict(p.get(name) or {})
    for key, top in SIGN_IN[name].items():
        if options.get(key) in (None, "") and p.get(top) not in (None, ""):
            options[key] = p[top]
    return options


def build_target(m, image, name):
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import MissingLibrary, fingerprint

    p = m.params
    if not p.get(name):
        m.fail("target is %s: set the %s options (see ansible-doc citrix_community.ips.ips_upload)" % (name, name))
    options = target_options(p, name)
    required = REQUIRED.get(name, ())
    if name == "azure" and azure_auth_source(options) in ("client_secret", "certificate"):
        required += AZURE_PRINCIPAL
    missing = ["%s.%s (or %s, or %s)" % (name, key, SIGN_IN[name][key], env) for key, env in required if not options.get(key)]
    if missing:
        m.fail("the %s credentials are incomplete: set %s" % (name, ", ".join(missing)))
    if name == "gcp" and isinstance(options.get("service_account_key"), dict):
        m.add_secret(options["service_account_key"].get("private_key"))
    kw = dict(timeout=p["request_timeout"], tries=p["retries"], wait_timeout=p["wait_timeout"])
    try:
        if name == "azure":
            from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import AzureTarget as cls
        elif name == "aws":
            from ansible_collections.citrix_community.ips.plugins.module_utils._upload.aws import AwsTarget as cls
        else:
            from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import GcpTarget as cls
        target = cls(options, image, fingerprint(image.identity), concurrency=p["concurrency"] or cls.default_concurrency, **kw)
    except MissingLibrary as exc:
        m.module.fail_json(msg=missing_required_lib(PACKAGES[name], reason="for target %s (%s failed to import; pip install %s, or -r "
                                                    "requirements.txt)" % (name, exc.library, PACKAGES[name])),
                           exception=str(exc.exception))
    for secret in target.secrets:
        m.add_secret(secret)
    return target


TARGETS = ("azure", "aws", "gcp")


def target_names(m):
    """(names, many): the targets of O(target) - one name, or a list of distinct names (a fan-out)."""
    value = m.params["target"]
    many = isinstance(value, list)
    names = value if many else [value]
    bad = [n for n in names if not isinstance(n, str) or n not in TARGETS]
    if bad or not names or len(set(names)) != len(names):
        m.fail("target must be one of azure, aws, gcp, or a list of distinct ones (a fan-out, e.g. [azure, aws, gcp]); got %r" % (value,))
    return names, many


def main(m):
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import run_upload
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.memory import limit_arenas

    limit_arenas()  # this module's own process only, before the upload's threads exist (see _upload/memory.py)
    p = m.params
    names, many = target_names(m)
    if p["concurrency"] is not None and p["concurrency"] < 1:
        m.fail("concurrency must be 1 or more, got %s" % p["concurrency"])
    if p["retries"] < 1:
        m.fail("retries must be 1 or more, got %s" % p["retries"])
    if p["wait_timeout"] < 1:
        m.fail("wait_timeout must be 1 or more seconds, got %s" % p["wait_timeout"])
    sas_duration = (p.get("azure") or {}).get("sas_duration")
    if sas_duration is not None and sas_duration < 300:
        m.fail("azure.sas_duration must be 300 seconds or more (it must outlast the upload), got %s" % sas_duration)
    missing = [n for n in names if not p.get(n)]
    if missing:
        m.fail("target is %s: set the %s options (see ansible-doc citrix_community.ips.ips_upload)"
               % (", ".join(names), " and ".join(missing)))
    problems = []
    for name in names:
        problems += option_problems(dict(p, target=name), target_options(p, name))
    if problems:
        m.fail("; ".join(sorted(set(problems), key=problems.index)))
    src, image = open_disk(p["source"])
    try:
        targets = [build_target(m, image, name) for name in names]
        result = run_upload(targets if many else targets[0], overwrite=p["overwrite"], check_mode=m.check_mode, journal_dir=p["journal_dir"],
                            progress_file=p["progress_file"], concurrency=p["concurrency"], verify=p["verify"],
                            rate_limit=p["rate_limit"] * 1048576 if p["rate_limit"] else None)
    finally:
        src.close()
    result["source"] = image.name
    if many:
        failed = result.pop("failed")
        result["failed_targets"] = failed
        if failed:
            m.fail("the upload to %s failed (%s); the other targets finished - run the task again: it resumes the failed "
                   "target(s) and leaves the finished ones alone"
                   % (", ".join(failed), "; ".join("%s: %s" % (n, result["targets"][n].get("msg")) for n in failed)), **result)
    m.exit(**result)


if __name__ == "__main__":
    IPSModule(SPEC, auth=False, supports_check_mode=True).run(main)
