"""IAM of the lab's GCP project: what `projects.testIamPermissions` (Cloud Resource Manager) answers.

The lab keeps its OWN copy of the permissions Citrix documents for Image Portability on GCP and of the
upload's (docs/permissions.md); it never reads the collection's lists. The lab's token holds all of them
on the project. Runtime setting `iam_removed_permissions` (PUT /_lab/config on the GCE plane) takes
permissions away, so a test can withdraw exactly one; POST /_lab/reset restores them.

    POST /v1/projects/{project}:testIamPermissions   {"permissions": [...]} -> {"permissions": [the granted ones]}
(also /v3/). As Google's API: at most 100 permissions per call, a name must look like service.resource.verb,
and only the granted ones come back (none: an empty object).
"""

import re

PERMISSION_RE = re.compile(r"^[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9]+){2,}$")
MAX_PERMISSIONS = 100
GRANTED = frozenset((
    "cloudbuild.builds.create", "cloudbuild.builds.get", "cloudbuild.builds.list",
    "compute.disks.create", "compute.disks.delete", "compute.disks.get", "compute.disks.list", "compute.disks.setLabels",
    "compute.disks.use", "compute.globalOperations.get", "compute.images.create", "compute.images.delete", "compute.images.get",
    "compute.images.list", "compute.images.setLabels", "compute.images.useReadOnly", "compute.instances.create",
    "compute.instances.delete", "compute.instances.get", "compute.instances.setLabels", "compute.instances.setMetadata",
    "compute.instances.setServiceAccount", "compute.instances.setTags", "compute.instances.stop",
    "compute.instances.updateDisplayDevice", "compute.networks.get", "compute.subnetworks.use", "compute.subnetworks.useExternalIp",
    "compute.zoneOperations.get", "compute.zones.list", "iam.serviceAccounts.actAs", "iam.serviceAccounts.get",
    "iam.serviceAccounts.list", "resourcemanager.projects.get", "storage.buckets.create", "storage.buckets.delete",
    "storage.buckets.get", "storage.objects.create", "storage.objects.delete", "storage.objects.get", "storage.objects.list",
))


def valid_removed(value):
    return isinstance(value, list) and all(isinstance(v, str) and PERMISSION_RE.match(v) for v in value)


def test_permissions(body, removed):
    """(status, answer) of testIamPermissions for the request body; `removed`: the permissions taken away."""
    wanted = body.get("permissions") if isinstance(body, dict) else None
    if not isinstance(wanted, list) or not all(isinstance(p, str) for p in wanted):
        return 400, "Invalid JSON payload: 'permissions' must be a list of strings."
    if len(wanted) > MAX_PERMISSIONS:
        return 400, "The number of permissions in the request (%d) exceeds the maximum of %d." % (len(wanted), MAX_PERMISSIONS)
    bad = [p for p in wanted if not PERMISSION_RE.match(p)]
    if bad:
        return 400, "Permission %s is not valid." % bad[0]
    granted = [p for p in wanted if p in GRANTED and p not in set(removed)]
    return 200, ({"permissions": granted} if granted else {})
