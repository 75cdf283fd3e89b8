# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Compute Engine instance template of the prepared image, as ips_gcp_instance_template wants it: the request body
built from the options, the summary of a template (what the module returns and compares), and the differences
between an existing template and the wanted one.

Field names are the compute/v1 InstanceTemplate / InstanceProperties / AttachedDisk names (Compute API reference).
A template cannot be changed in place in GCE: a different one under the same name is replaced (delete, insert)
only when the user asks for it (overwrite).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# what the module compares, in the order its messages name them
COMPARED = ("machine_type", "source_image", "source_disk", "disk_type", "disk_size_gb", "network", "subnetwork", "labels", "description")


def _last(url):
    """The name at the end of a resource URL or partial URL (global/images/x, projects/p/global/networks/default, x)."""
    return str(url).rstrip("/").rsplit("/", 1)[-1] if url else None


def _image_ref(url):
    """global/images/<name> or family/<name>, whatever prefix the URL has."""
    if not url:
        return None
    parts = str(url).rstrip("/").split("/")
    return "family/" + parts[-1] if len(parts) > 1 and parts[-2] == "family" else parts[-1]


def wanted(params):
    """The summary of the template the options ask for (the shape summary() gives an existing one)."""
    return {"machine_type": params["machine_type"], "source_image": _image_ref(params.get("source_image")),
            "source_disk": _last(params.get("source_disk")), "disk_type": params.get("disk_type") if not params.get("source_disk") else None,
            "disk_size_gb": params.get("disk_size_gb"), "network": _last(params.get("network")),
            "subnetwork": _last(params.get("subnetwork")), "labels": params.get("labels") or {}, "description": params.get("description")}


def body(params):
    """The instanceTemplates.insert body."""
    disk = {"boot": True, "autoDelete": True, "type": "PERSISTENT", "mode": "READ_WRITE"}
    if params.get("source_disk"):
        disk["source"] = params["source_disk"]
    else:
        source = params["source_image"]
        init = {"sourceImage": source if "/" in source and not source.startswith("family/") else "global/images/" + source}
        if params.get("disk_type"):
            init["diskType"] = params["disk_type"]
        if params.get("disk_size_gb"):
            init["diskSizeGb"] = str(params["disk_size_gb"])
        disk["initializeParams"] = init
    props = {"machineType": params["machine_type"], "disks": [disk]}
    if params.get("network") or params.get("subnetwork"):
        nic = {}
        for key in ("network", "subnetwork"):
            if params.get(key):
                nic[key] = params[key]
        props["networkInterfaces"] = [nic]
    if params.get("labels"):
        props["labels"] = params["labels"]
    out = {"name": params["name"], "properties": props}
    if params.get("description"):
        out["description"] = params["description"]
    return out


def summary(template):
    """The template as the module returns it (and compares it)."""
    if not template:
        return None
    props = template.get("properties") or {}
    boot = ([d for d in props.get("disks") or [] if d.get("boot")] or [{}])[0]
    init = boot.get("initializeParams") or {}
    nic = (props.get("networkInterfaces") or [{}])[0]
    size = init.get("diskSizeGb")
    return {"name": template.get("name"), "id": template.get("id"), "self_link": template.get("selfLink"),
            "machine_type": props.get("machineType"), "source_image": _image_ref(init.get("sourceImage")),
            "source_disk": _last(boot.get("source")), "disk_type": _last(init.get("diskType")),
            "disk_size_gb": int(size) if size not in (None, "") else None, "network": _last(nic.get("network")),
            "subnetwork": _last(nic.get("subnetwork")), "labels": props.get("labels") or {}, "description": template.get("description")}


def differences(existing, want):
    """The compared fields in which an existing template's summary differs from the wanted one: [(field, has, wants)]."""
    return [(key, existing.get(key), want.get(key)) for key in COMPARED if existing.get(key) != want.get(key)]
