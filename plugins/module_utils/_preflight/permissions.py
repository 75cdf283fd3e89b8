# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documented permission lists the preflight compares an identity with, one table per cloud.

Each list carries its provenance flag (as _wire does for field names):
  SEEN      copied from Citrix's "Permissions required by Image Portability Service" (Citrix DaaS docs)
            or from the collection's own calls (docs/permissions.md, the upload identity)
  INFERRED  the page's text for that scope is garbled or missing; the list is reasoned, not read
A wrong list is a one-line fix here; the lab keeps its own copy on purpose.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

SEEN = "seen"
INFERRED = "inferred"

Needed = namedtuple("Needed", ["why", "actions", "flag"])

# --- Azure: the job's identity (the wallet's Azure credential) and the upload's ----------------

AZURE_CE_RESOURCE_GROUP = Needed("the compositing engine's resource group (vm_resource_group)", (
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/endGetAccess/action", "Microsoft.Compute/disks/delete",
    "Microsoft.Compute/disks/read", "Microsoft.Compute/disks/write", "Microsoft.Compute/virtualMachines/delete",
    "Microsoft.Compute/virtualMachines/powerOff/action", "Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/write",
    "Microsoft.Network/networkInterfaces/delete", "Microsoft.Network/networkInterfaces/join/action", "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/networkInterfaces/write", "Microsoft.Network/networkSecurityGroups/delete",
    "Microsoft.Network/networkSecurityGroups/join/action", "Microsoft.Network/networkSecurityGroups/read",
    "Microsoft.Network/networkSecurityGroups/write", "Microsoft.Resources/deployments/operationStatuses/read",
    "Microsoft.Resources/deployments/read", "Microsoft.Resources/deployments/write", "Microsoft.Resources/subscriptions/resourcegroups/read",
), SEEN)
AZURE_SUBSCRIPTION = Needed("the subscription (no vm_resource_group given: the job makes its own)", (
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/endGetAccess/action", "Microsoft.Compute/disks/read",
    "Microsoft.Compute/disks/write", "Microsoft.Compute/virtualMachines/powerOff/action", "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/write", "Microsoft.Network/networkInterfaces/join/action", "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/networkInterfaces/write", "Microsoft.Network/networkSecurityGroups/join/action",
    "Microsoft.Network/networkSecurityGroups/read", "Microsoft.Network/networkSecurityGroups/write",
    "Microsoft.Resources/deployments/operationStatuses/read", "Microsoft.Resources/deployments/read", "Microsoft.Resources/deployments/write",
    "Microsoft.Resources/subscriptions/resourceGroups/delete", "Microsoft.Resources/subscriptions/resourceGroups/write",
    "Microsoft.Authorization/roleAssignments/read", "Microsoft.Authorization/roleDefinitions/read",
), SEEN)
AZURE_TARGET_DISKS = Needed("the target disk's resource group (resource_group)", (
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/delete", "Microsoft.Compute/disks/read",
    "Microsoft.Compute/disks/write", "Microsoft.Compute/snapshots/delete", "Microsoft.Compute/snapshots/read",
), SEEN)
# Network isolation: the NSG the CE gets (at the CE resource group; at the subscription also delete).
AZURE_ISOLATION_RG = Needed("network isolation at the compositing engine's resource group", (
    "Microsoft.Network/networkSecurityGroups/join/action", "Microsoft.Network/networkSecurityGroups/read",
    "Microsoft.Network/networkSecurityGroups/write",
), SEEN)
AZURE_ISOLATION_SUBSCRIPTION = Needed("network isolation at the subscription", AZURE_ISOLATION_RG.actions + (
    "Microsoft.Network/networkSecurityGroups/delete",), SEEN)
# The vnet resource group's list is garbled on the page the reference copied; subnets/join is what joining needs.
AZURE_VNET = Needed("the virtual network's resource group (vnet_resource_group)", (
    "Microsoft.Network/virtualNetworks/read", "Microsoft.Network/virtualNetworks/subnets/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
), INFERRED)
AZURE_UPLOAD = Needed("the upload (ips_upload) into the target disk's resource group", (
    "Microsoft.Compute/disks/read", "Microsoft.Compute/disks/write", "Microsoft.Compute/disks/delete",
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/endGetAccess/action",
), SEEN)

# --- AWS ------------------------------------------------------------------------------------------

AWS_JOB = Needed("the Image Portability jobs (the wallet's AWS credential)", (
    "ebs:StartSnapshot", "ebs:PutSnapshotBlock", "ebs:CompleteSnapshot", "ec2:CreateTags", "ec2:CreateImage", "ec2:DeleteSnapshot",
    "ec2:DeleteVolume", "ec2:DeregisterImage", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeRegions",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshots", "ec2:DescribeSubnets", "ec2:RebootInstances", "ec2:RegisterImage",
    "ec2:RunInstances", "ec2:TerminateInstances",
), SEEN)
AWS_UPLOAD = Needed("the upload (ips_upload, EBS direct)", (
    "ebs:StartSnapshot", "ebs:PutSnapshotBlock", "ebs:CompleteSnapshot", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:CreateTags",
), SEEN)

# --- GCP ------------------------------------------------------------------------------------------

GCP_JOB = Needed("the Image Portability jobs (the wallet's GCP service account)", (
    "cloudbuild.builds.create", "cloudbuild.builds.get", "cloudbuild.builds.list", "compute.disks.create", "compute.disks.delete",
    "compute.disks.get", "compute.disks.list", "compute.disks.setLabels", "compute.disks.use", "compute.globalOperations.get",
    "compute.images.create", "compute.images.delete", "compute.images.get", "compute.images.list", "compute.images.setLabels",
    "compute.images.useReadOnly", "compute.instances.create", "compute.instances.delete", "compute.instances.get",
    "compute.instances.setLabels", "compute.instances.setMetadata", "compute.instances.setServiceAccount", "compute.instances.setTags",
    "compute.instances.stop", "compute.instances.updateDisplayDevice", "compute.networks.get", "compute.subnetworks.use",
    "compute.subnetworks.useExternalIp", "compute.zoneOperations.get", "compute.zones.list", "iam.serviceAccounts.actAs",
    "iam.serviceAccounts.get", "iam.serviceAccounts.list", "resourcemanager.projects.get", "storage.buckets.create",
    "storage.buckets.delete", "storage.buckets.get", "storage.objects.create", "storage.objects.delete", "storage.objects.get",
    "storage.objects.list",
), SEEN)
GCP_UPLOAD = Needed("the upload (ips_upload: the archive object, then the image)", (
    "storage.objects.create", "storage.objects.get", "storage.objects.delete", "storage.objects.list", "compute.images.create",
    "compute.images.get", "compute.images.delete", "compute.images.setLabels", "compute.globalOperations.get",
), SEEN)
