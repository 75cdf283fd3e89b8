# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS sign-in for the modules that call AWS themselves (ips_upload target aws, ips_aws_image), with the
names amazon.aws uses: an access key (with a session token for temporary credentials, from
AWS_SESSION_TOKEN or AWS_SECURITY_TOKEN, which AWX's AWS credential injects), or a named profile, or
boto3's own chain (instance role, web identity ...). The region is never guessed: a missing region is
an error naming the option and the variables.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

# Environment variables, as amazon.aws reads them (first set wins).
ENV = {
    "access_key_id": ["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "EC2_ACCESS_KEY"],
    "secret_access_key": ["AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "EC2_SECRET_KEY"],
    "session_token": ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "EC2_SECURITY_TOKEN"],
    "profile": ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"],
    "region": ["AWS_REGION", "AWS_DEFAULT_REGION", "EC2_REGION"],
}


class AwsAuthError(IPSError):
    """The AWS options do not make a usable sign-in; the message names the options and the fix."""


def session(access_key_id=None, secret_access_key=None, session_token=None, profile=None, region=None, names=None):
    """(boto3 Session, region). `names` maps each key above to the option name the user sees in messages."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    names = dict(dict((k, k) for k in ENV), **(names or {}))
    if profile and (access_key_id or secret_access_key):
        raise AwsAuthError("%s and %s/%s exclude each other: use the profile, or the access key, not both"
                           % (names["profile"], names["access_key_id"], names["secret_access_key"]))
    if bool(access_key_id) != bool(secret_access_key):
        raise AwsAuthError("%s and %s go together: set both (or %s / %s in the environment), or neither to use a profile or the "
                           "instance's role" % (names["access_key_id"], names["secret_access_key"], ENV["access_key_id"][0],
                                                ENV["secret_access_key"][0]))
    try:
        if profile:
            sess = boto3.session.Session(profile_name=profile, region_name=region or None)
        else:
            sess = boto3.session.Session(aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
                                         aws_session_token=session_token or None, region_name=region or None)
    except ProfileNotFound:
        raise AwsAuthError("the AWS profile %r (%s) is not in the shared config or credentials file of the host that runs the task"
                           % (profile, names["profile"]))
    region = region or sess.region_name
    if not region:
        raise AwsAuthError("no AWS region: set %s, or %s in the environment%s" % (
            names["region"], " or ".join(ENV["region"][:2]), " (or a region in the profile's config)" if profile else ""))
    return sess, region
