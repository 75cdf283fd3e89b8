# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of an AWS identity: IAM's policy simulator (`SimulatePrincipalPolicy`) for the documented
actions (permissions.py), for the principal the options name (`principal_arn`: the wallet's IAM user or
role, whose keys cannot be read back) or else the one the options sign in as (STS GetCallerIdentity).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, could_not_check, item, permissions


def principal_of(caller_arn):
    """The ARN the simulator takes for a caller: an assumed role becomes its role."""
    match = re.match(r"^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.*$", caller_arn or "")
    if match:
        return "arn:%s:iam::%s:role/%s" % match.groups()
    return caller_arn


def check(sign_in, principal_arn=None, timeout=30):
    from ansible_collections.citrix_community.ips.plugins.module_utils._aws_auth import session

    secrets = [sign_in.get("secret_access_key"), sign_in.get("session_token")]
    try:
        from botocore.config import Config

        keys = ("access_key_id", "secret_access_key", "session_token", "profile", "region")
        sess, region = session(*[sign_in.get(k) for k in keys], names=dict((k, "target.upload.%s" % k) for k in keys))
        cfg = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 3})
        iam = sess.client("iam", region_name=region, endpoint_url=sign_in.get("iam_endpoint_url") or None, config=cfg)
        arn = principal_arn
        if not arn:
            sts = sess.client("sts", region_name=region, endpoint_url=sign_in.get("sts_endpoint_url") or None, config=cfg)
            arn = principal_of(sts.get_caller_identity()["Arn"])
    except Exception as exc:  # pylint: disable=broad-except
        return [could_not_check("aws sign-in", exc, "check target.upload's access keys, profile and region", "", secrets)]
    items = [item("aws sign-in", OK, "simulating the policies of %s" % arn, scope=arn)]
    for needed in (permissions.AWS_JOB, permissions.AWS_UPLOAD):
        name = "aws permissions: %s" % needed.why
        scope = "%s on Resource * (%s)" % (arn, region)
        try:
            decisions = {}
            for page in iam.get_paginator("simulate_principal_policy").paginate(PolicySourceArn=arn, ActionNames=list(needed.actions)):
                for res in page.get("EvaluationResults") or []:
                    decisions[res["EvalActionName"]] = res["EvalDecision"]
        except Exception as exc:  # pylint: disable=broad-except
            items.append(could_not_check(name, exc, "give the identity that runs the preflight iam:SimulatePrincipalPolicy on %s" % arn,
                                         scope, secrets))
            continue
        lacking = [a for a in needed.actions if decisions.get(a) != "allowed"]
        if lacking:
            denied = [a for a in lacking if decisions.get(a) == "explicitDeny"]
            denial = " (explicitly denied: %s)" % ", ".join(denied) if denied else ""
            items.append(item(name, MISSING, "not allowed for %s: %s%s" % (arn, ", ".join(lacking), denial),
                              "add %s to a policy attached to %s%s" % (", ".join(lacking), arn, " and remove the Deny" if denied else ""),
                              scope))
        else:
            items.append(item(name, OK, "all %d documented actions allowed" % len(needed.actions), scope=scope))
    return items
