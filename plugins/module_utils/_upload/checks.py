# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an upload's options alone show to be wrong: checked before the source is opened or any cloud is called.

    problems = option_problems(params)   # [] or one line per problem: the option, what is wrong, the fix

Names follow each cloud's documented rules (a name the cloud would refuse, or read as a path, fails here
with the rule rather than later as "No route" or "InvalidParameter"); files the task must read (CA bundles,
keys) must be readable files; journal_dir and progress_file must be creatable; an AWS region must be one
the installed SDK knows (its offline endpoint list).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# option path -> (pattern, the rule in words). Sources: Azure resource naming rules (Microsoft.Compute/disks,
# resource groups), Cloud Storage bucket naming, Compute Engine resource names (RFC 1035), GCP project ids.
NAME_RULES = {
    "azure.disk_name": (r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?",
                        "1 to 80 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'"),
    "azure.resource_group": (r"[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]", "1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'"),
    "azure.location": (r"[A-Za-z][A-Za-z0-9 ]{1,40}", "an Azure region name such as westeurope"),
    "azure.subscription_id": (r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", "a GUID"),
    "gcp.image_name": (r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?", "1 to 63 lower-case letters, digits or '-', starting with a letter, not ending with '-'"),
    "gcp.bucket": (r"[a-z0-9][-a-z0-9_.]{1,220}[a-z0-9]", "3 to 222 lower-case letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
    "gcp.project": (r"(?:[a-z][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]",
                    "a project id: 6 to 30 lower-case letters, digits or '-', starting with a letter"),
    "gcp.family": (r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?", "1 to 63 lower-case letters, digits or '-', starting with a letter"),
    "aws.snapshot_name": (r"[^\x00-\x1f]{1,256}", "1 to 256 printable characters (it is the snapshot's Name tag)"),
}
# option path -> what the file is, for the files the task reads
READABLE_FILES = {
    "azure.ca_path": "the CA bundle (PEM) to verify Azure's endpoints with",
    "azure.x509_certificate_path": "the service principal's certificate",
    "gcp.service_account_file": "the service account key file",
}


def _get(params, path):
    node = params
    for key in path.split("."):
        if not isinstance(node, dict) or node.get(key) in (None, ""):
            return None
        node = node[key]
    return node


def name_problems(params, target):
    problems = []
    for path, (pattern, rule) in sorted(NAME_RULES.items()):
        if not path.startswith(target + "."):
            continue
        value = _get(params, path)
        if value is not None and not re.match(r"(?:%s)\Z" % pattern, str(value)):
            problems.append("%s %r is not a valid name: it must be %s; choose a name that follows this rule" % (path, str(value), rule))
    return problems


def file_problems(params, target):
    problems = []
    for path, what in sorted(READABLE_FILES.items()):
        if not path.startswith(target + "."):
            continue
        value = _get(params, path)
        if value is None:
            continue
        value = os.path.expanduser(str(value))
        if not os.path.exists(value):
            problems.append("%s %s does not exist; point it at %s (read on the host that runs the task)" % (path, value, what))
        elif not os.path.isfile(value):
            problems.append("%s %s is not a file; point it at %s" % (path, value, what))
        elif not os.access(value, os.R_OK):
            problems.append("%s %s cannot be read: permission denied; give the user that runs the task read access" % (path, value))
    return problems


def _creatable_folder(folder):
    """None when `folder` is (or can be made as) a writable directory, else what stands in the way."""
    folder = os.path.abspath(folder)
    probe = folder
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        return "%s is a file, not a folder" % probe
    if not os.access(probe, os.W_OK | os.X_OK):
        return "%s is not writable by the user that runs the task" % probe
    return None


def path_problems(params):
    problems = []
    journal_dir = params.get("journal_dir")
    if journal_dir:
        why = _creatable_folder(os.path.expanduser(journal_dir))
        if why:
            problems.append("journal_dir %s cannot hold the upload journals: %s; give a folder (it is created when missing)" % (journal_dir, why))
    progress_file = params.get("progress_file")
    if progress_file:
        path = os.path.expanduser(progress_file)
        if os.path.isdir(path):
            problems.append("progress_file %s is a folder; give the path of a file (it is created)" % progress_file)
        else:
            why = _creatable_folder(os.path.dirname(os.path.abspath(path)))
            if why:
                problems.append("progress_file %s cannot be written: %s; give a path in a folder the task can write" % (progress_file, why))
    return problems


def known_aws_regions():
    """Every region of every partition in botocore's bundled endpoint data (no network), or None without botocore."""
    try:
        import botocore.session
    except ImportError:
        return None
    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        for service in ("ec2", "ebs"):
            regions.update(session.get_available_regions(service, partition_name=partition))
    return regions


def region_problems(params, target):
    if target != "aws":
        return []
    region = _get(params, "aws.region")
    if region is None:
        return []
    known = known_aws_regions()
    if known and region not in known:
        prefix = str(region).split("-", 1)[0]
        close = sorted(r for r in known if r.split("-", 1)[0] == prefix)[:6]
        return ["aws.region %r is not an AWS region this SDK knows; use a region code such as %s" % (
            region, ", ".join(close) if close else "us-east-1 or eu-west-1")]
    return []


def option_problems(params, target_options):
    """Every problem the options show, target options taken from `target_options` (the target's dict, sign-in filled)."""
    target = params.get("target")
    scoped = {target: target_options} if target else {}
    problems = []
    if target:
        problems += name_problems(scoped, target) + file_problems(scoped, target) + region_problems(scoped, target)
    return problems + path_problems(params)
