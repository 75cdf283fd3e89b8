# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What MCS consumes, per cloud: the prepared artifact as a hosting-unit resource (its XDPath), and
the catalog and image-version shapes the MCS modules return.

  Azure  the managed disk as is:  image.folder\\<rg>.resourcegroup\\<disk>.manageddisk
  AWS    an AMI:                  <name> (ami-...).template
  GCP    an image:                images.folder\\<name>.image

An instance template (GCP) is not a master image but a machine profile, sent as MachineProfilePath:
  GCP    instanceTemplates.folder\\<name>.template
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

# The module options that name the artifact (one of them), and master_image_path (an XDPath given whole).
ARTIFACT_OPTIONS = ("master_image_path", "azure_disk", "aws_ami", "gcp_image", "gcp_instance_template")
# The options that name the machine profile (at most one).
PROFILE_OPTIONS = ("machine_profile_path", "gcp_machine_profile")


def artifact_spec():
    """The argument spec of the artifact options, shared by the MCS modules."""
    return dict(
        master_image_path=dict(type="str"),
        azure_disk=dict(type="dict", options=dict(resource_group=dict(type="str", required=True), name=dict(type="str", required=True))),
        aws_ami=dict(type="str"),
        gcp_image=dict(type="str"),
        gcp_instance_template=dict(type="str"),
    )


def profile_spec():
    """The argument spec of the machine-profile options (catalog create and image update)."""
    return dict(machine_profile_path=dict(type="str"), gcp_machine_profile=dict(type="str"))


def _xdpath(path, option, what):
    """(option, folder, matcher, description) of an XDPath given whole."""
    if not path.lower().startswith(W.HOSTING_UNITS.lower()):
        raise IPSError("%s must be an XDPath starting with %s (got %r)." % (option, W.HOSTING_UNITS, path))
    relative = path[len(W.HOSTING_UNITS):].partition("\\")[2]
    folder, _sep, name = relative.rpartition("\\")
    return option, folder, lambda n: n.lower() == name.lower(), "%s %s" % (what, path)


def locate(params):
    """(option, folder, matcher, description) of the artifact the options name; None if none is named."""
    if params.get("azure_disk"):
        disk = params["azure_disk"]
        folder = "%s\\%s" % (W.AZURE_FOLDER, W.AZURE_GROUP.format(group=disk["resource_group"]))
        wanted = W.AZURE_DISK.format(disk=disk["name"]).lower()
        return ("azure_disk", folder, lambda n: n.lower() == wanted,
                "the Azure managed disk '%s' in resource group '%s'" % (disk["name"], disk["resource_group"]))
    if params.get("aws_ami"):
        suffix = " (%s)%s" % (params["aws_ami"].lower(), W.AWS_TEMPLATE.rsplit(")", 1)[1])
        return "aws_ami", "", lambda n: n.lower().endswith(suffix), "the AMI %s" % params["aws_ami"]
    if params.get("gcp_image"):
        wanted = W.GCP_IMAGE.format(name=params["gcp_image"]).lower()
        return "gcp_image", W.GCP_IMAGES_FOLDER, lambda n: n.lower() == wanted, "the GCP image '%s'" % params["gcp_image"]
    if params.get("gcp_instance_template"):
        raise IPSError("gcp_instance_template: MCS on Google Cloud takes an instance template as the catalog's machine profile, "
                       "not as its master image. Give the disk image as gcp_image and the template '%s' as gcp_machine_profile."
                       % params["gcp_instance_template"])
    if params.get("master_image_path"):
        return _xdpath(params["master_image_path"], "master_image_path", "the image")
    return None


def locate_profile(params):
    """(option, folder, matcher, description) of the machine profile the options name; None if none is named."""
    if params.get("gcp_machine_profile"):
        wanted = W.GCP_TEMPLATE.format(name=params["gcp_machine_profile"]).lower()
        return ("gcp_machine_profile", W.GCP_TEMPLATES_FOLDER, lambda n: n.lower() == wanted,
                "the GCP instance template '%s'" % params["gcp_machine_profile"])
    if params.get("machine_profile_path"):
        return _xdpath(params["machine_profile_path"], "machine_profile_path", "the machine profile")
    return None


def resolve_profile(client, connection, pool, params):
    """The XDPath of the machine profile in the hosting unit, or None when no profile option is given."""
    located = locate_profile(params)
    return _find(client, connection, pool, located) if located else None


def resolve(client, connection, pool, params):
    """The XDPath of the artifact in the hosting unit (looked up through the cache, then with noCache)."""
    return _find(client, connection, pool, locate(params))


def _find(client, connection, pool, located):
    option, folder, match, what = located
    found = client.find_resource(connection, pool, folder, match)
    if found is None:
        raise IPSError("%s (%s) is not in hosting unit '%s', not even with a fresh (noCache) look-up: check %s, and that the "
                       "hosting connection can see it." % (what[0].upper() + what[1:], option, pool, option))
    return found[W.RESOURCE_XDPATH.json]


def _name(obj):
    return (obj or {}).get(W.NAME.json)


def catalog_summary(raw):
    """The catalog as the MCS modules return it."""
    scheme = raw.get(W.CATALOG_SCHEME.json) or {}
    image = scheme.get(W.SCHEME_MASTER_IMAGE.json) or {}
    version = scheme.get(W.SCHEME_CURRENT_IMAGE_VERSION.json) or {}
    return {
        "id": raw.get(W.ID.json), "name": raw.get(W.NAME.json),
        "provisioning_type": raw.get(W.CATALOG_PROVISIONING_TYPE.json),
        "session_support": raw.get(W.CATALOG_SESSION_SUPPORT.json),
        "hypervisor_connection": _name(raw.get(W.CATALOG_HYPERVISOR_CONNECTION.json)),
        "resource_pool": _name(scheme.get(W.SCHEME_RESOURCE_POOL.json)),
        "master_image_path": image.get(W.RESOURCE_XDPATH.json),
        "master_image_name": image.get(W.NAME.json),
        "master_image_note": scheme.get(W.SCHEME_MASTER_IMAGE_NOTE.json),
        "machine_profile_path": (scheme.get(W.SCHEME_MACHINE_PROFILE.json) or {}).get(W.RESOURCE_XDPATH.json),
        "image_definition": _name(version.get(W.ASSIGN_VERSION_FIELDS["definition"].json)),
        "image_version": (version.get(W.ASSIGN_VERSION_FIELDS["version"].json) or {}).get(W.VERSION_NUMBER.json),
    }


def pool_and_connection(raw):
    """(hypervisor connection id or name, resource pool id or name) an MCS catalog provisions from."""
    scheme = raw.get(W.CATALOG_SCHEME.json) or {}
    conn = raw.get(W.CATALOG_HYPERVISOR_CONNECTION.json) or {}
    pool = scheme.get(W.SCHEME_RESOURCE_POOL.json) or {}
    return conn.get(W.ID.json) or conn.get(W.NAME.json), pool.get(W.ID.json) or pool.get(W.NAME.json), pool.get(W.NAME.json)


def refuse_unless_mcs(raw, option="catalog"):
    kind = raw.get(W.CATALOG_PROVISIONING_TYPE.json)
    if kind != W.PROVISIONING_MCS:
        extra = " (PVS-streamed catalogs take their vDisk from Provisioning Services: publish the vDisk instead)" \
            if kind in W.PROVISIONING_PVS else ""
        raise IPSError("The machine catalog '%s' (%s) is provisioned by %s, not MCS; its master image cannot be set through "
                       "DaaS%s." % (raw.get(W.NAME.json), option, kind, extra))


def version_summary(raw):
    specs = raw.get(W.VERSION_SPECS.json) or [{}]
    return {"id": raw.get(W.ID.json), "number": raw.get(W.VERSION_NUMBER.json), "status": raw.get(W.VERSION_STATUS.json),
            "description": raw.get(W.VERSION_FIELDS["description"].json),
            "master_image_path": (specs[0].get(W.SPEC_MASTER_IMAGE.json) or {}).get(W.RESOURCE_XDPATH.json),
            "resource_pools": [_name(p) for p in specs[0].get(W.SPEC_RESOURCE_POOLS.json) or []]}


def on_target(summary, path=None, definition=None, version=None, profile=None):
    """Whether the catalog is already on the image path (and no image version), or on that image version, and on the
    machine profile when one is asked for."""
    if profile and (summary.get("machine_profile_path") or "").lower() != profile.lower():
        return False
    if definition:
        return (str(summary["image_definition"] or "").lower() == definition.lower() and str(summary["image_version"]) == str(version))
    return (summary["master_image_path"] or "").lower() == (path or "").lower() and not summary["image_definition"]


def running_update(client, catalog_id, path=None):
    """The image update of this catalog (to this image path, when given) that is still running: a re-run attaches to it."""
    for job in client.running_jobs(W.JOB_UPDATE_IMAGE):
        params = job["parameters"]
        if params.get(W.JOB_PARAM_CATALOG_ID) == catalog_id and (path is None or (params.get(W.JOB_PARAM_IMAGE_PATH) or "").lower() == path.lower()):
            return job
    return None
