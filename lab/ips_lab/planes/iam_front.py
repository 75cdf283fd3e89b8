"""The IAM front of the lab (plain HTTP, loopback): boto3's `iam` and `sts` clients, pointed at
IPS_LAB_IAM_URL, talk to this. moto keeps users and policies but has no policy simulator, so the
front answers `SimulatePrincipalPolicy` itself by evaluating the policies attached to the principal
in moto, and forwards every other call to moto. Every call must be signed with one of the lab's AWS keys
(sigv4.py): unsigned 403 MissingAuthenticationToken, another key (or the temporary key without its session token)
403 InvalidClientTokenId, a wrong signature 403 SignatureDoesNotMatch, as IAM and STS answer.

    python -m ips_lab.planes.iam_front --state-dir DIR --config FILE.json

The principal: the user `ips-lab-migrator` (IPS_LAB_AWS_PRINCIPAL_ARN), with the managed policy
`ips-lab-migrator`, which holds the lab's OWN copy of the AWS actions Citrix documents for Image
Portability and of the upload's (docs/permissions.md). Runtime setting `removed_actions`
(PUT /_lab/config): actions the policy's default version leaves out; the front writes that version
into moto (a real policy change) before it simulates. POST /_lab/reset restores the whole list.

Evaluation, as IAM's simulator does for identity policies: an explicit Deny wins (`explicitDeny`),
else an Allow (`allowed`), else `implicitDeny`; Action/NotAction and Resource patterns with `*`/`?`;
actions compare case-insensitively. Rules checked: PolicySourceArn must be a user ARN that exists
(404 NoSuchEntity), ActionNames 1..128 entries of the form service:Action (400 InvalidInput).
"""

import fnmatch
import json
import re
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ..common.server import serve_main
from .base import Answer, HttpError, Running, forward_read
from .faults import PlaneLab
from . import sigv4

ACCOUNT = "123456789012"
USER = "ips-lab-migrator"
POLICY = "ips-lab-migrator"
NS = "https://iam.amazonaws.com/doc/2010-05-08/"
# How IAM and STS answer a call they cannot authenticate (IAM API Reference, "Common Errors": MissingAuthenticationToken,
# InvalidClientTokenId, SignatureDoesNotMatch, all 403)
AUTH_ERRORS = {
    sigv4.UNSIGNED: (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
    sigv4.UNKNOWN_KEY: (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
    sigv4.BAD_SIGNATURE: (403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. "
                          "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
}
ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
DOCUMENTED = (
    "ebs:StartSnapshot", "ebs:PutSnapshotBlock", "ebs:CompleteSnapshot", "ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock",
    "ec2:CreateTags", "ec2:CreateImage", "ec2:DeleteSnapshot", "ec2:DeleteVolume", "ec2:DeregisterImage", "ec2:DescribeImages",
    "ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshots", "ec2:DescribeSubnets",
    "ec2:DescribeVolumes", "ec2:CreateVolume", "ec2:RebootInstances", "ec2:RegisterImage", "ec2:RunInstances", "ec2:TerminateInstances",
    "ec2:ImportImage", "ec2:DescribeImportImageTasks",
)
SIGNER = ("AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, "
          "Signature=0000000000000000000000000000000000000000000000000000000000000000")


def iam_error(status, code, message):
    body = ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
            '<RequestId>%s</RequestId></ErrorResponse>' % (NS, code, escape(message), uuid.uuid4()))
    return HttpError(status, body.encode("utf-8"), content_type="text/xml")


def valid_removed(value):
    return isinstance(value, list) and all(isinstance(v, str) and ACTION_RE.match(v) for v in value)


def _list(value):
    return value if isinstance(value, list) else [value]


def _matches(patterns, value):
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in _list(patterns))


def decide(documents, action, resource="*"):
    """allowed / explicitDeny / implicitDeny of `action` on `resource` under the policy documents."""
    allowed = False
    for doc in documents:
        for st in _list(doc.get("Statement") or []):
            if "Action" in st:
                hit = _matches(st["Action"], action)
            else:
                hit = "NotAction" in st and not _matches(st["NotAction"], action)
            if not hit:
                continue
            if "Resource" in st and not (resource == "*" or _matches(st["Resource"], resource)):
                continue
            if st.get("Effect") == "Deny":
                return "explicitDeny"
            allowed = allowed or st.get("Effect") == "Allow"
    return "allowed" if allowed else "implicitDeny"


class IamFront(object):
    def __init__(self, state_dir, config):
        self.moto = config["moto_url"]
        self.user = config.get("user") or USER
        # the lab's own AWS keys, the only ones it takes ({access key id: (secret, session token or None)})
        self.aws_keys = sigv4.keys_of(config)
        self.url = None
        self.lab = PlaneLab(state_dir, config.get("admin_token"), settings={
            "removed_actions": ([], valid_removed, "a list of action names (service:Action)")})

    def bound(self, url):
        self.url = url
        try:
            self.ensure_principal()  # at start, so the principal is there before any test looks
        except OSError:
            pass  # moto not answering yet: the first simulation makes it

    def close(self):
        self.lab.close()

    @staticmethod
    def fault_error(status, request):
        del request
        code = "Throttling" if status in (400, 429) else "ServiceFailure"
        return iam_error(status, code, "Injected fault (HTTP %d)." % status)

    # --- moto ---------------------------------------------------------------------------------

    def _call(self, params):
        """One IAM Query call to moto; (status, body text)."""
        form = dict(params, Version="2010-05-08")
        body = "&".join("%s=%s" % (k, _quote(v)) for k, v in form.items()).encode("utf-8")
        status, _headers, data = forward_read(self.moto, "POST", "/", {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": SIGNER % "AKIAIPSLABFRONT00000",
            "Content-Length": str(len(body))}, body)
        return status, data.decode("utf-8", "replace")

    def _policy_document(self, actions):
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "IpsLabMigrator", "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}]})

    def ensure_principal(self):
        """The lab's user and its policy exist in moto, the default version holding the documented actions minus `removed_actions`."""
        removed = set(a.lower() for a in self.lab.setting("removed_actions"))
        actions = [a for a in DOCUMENTED if a.lower() not in removed]
        arn = "arn:aws:iam::%s:policy/%s" % (ACCOUNT, POLICY)
        self._call({"Action": "CreateUser", "UserName": self.user})  # 409 EntityAlreadyExists when it is there
        status, text = self._call({"Action": "GetPolicy", "PolicyArn": arn})
        if status == 404:
            self._call({"Action": "CreatePolicy", "PolicyName": POLICY, "PolicyDocument": self._policy_document(actions)})
        elif sorted(a.lower() for a in self._default_actions(arn)) != sorted(a.lower() for a in actions):
            for version in re.findall(r"<VersionId>(v\d+)</VersionId>\s*<IsDefaultVersion>false", self._call(
                    {"Action": "ListPolicyVersions", "PolicyArn": arn})[1]):
                self._call({"Action": "DeletePolicyVersion", "PolicyArn": arn, "VersionId": version})
            self._call({"Action": "CreatePolicyVersion", "PolicyArn": arn, "PolicyDocument": self._policy_document(actions),
                        "SetAsDefault": "true"})
        self._call({"Action": "AttachUserPolicy", "UserName": self.user, "PolicyArn": arn})
        del text

    def _default_actions(self, arn):
        docs = self._documents_of_policy(arn)
        return [a for d in docs for st in _list(d.get("Statement") or []) for a in _list(st.get("Action") or [])]

    def _documents_of_policy(self, arn):
        status, text = self._call({"Action": "GetPolicy", "PolicyArn": arn})
        version = re.search(r"<DefaultVersionId>([^<]+)</DefaultVersionId>", text) if status == 200 else None
        if not version:
            return []
        status, text = self._call({"Action": "GetPolicyVersion", "PolicyArn": arn, "VersionId": version.group(1)})
        doc = re.search(r"<Document>([^<]*)</Document>", text)
        return [_document(doc.group(1))] if status == 200 and doc else []

    def documents(self, user):
        """Every identity policy document of the user: attached managed policies and inline ones; None if no such user."""
        status, _text = self._call({"Action": "GetUser", "UserName": user})
        if status != 200:
            return None
        docs = []
        _s, text = self._call({"Action": "ListAttachedUserPolicies", "UserName": user})
        for arn in re.findall(r"<PolicyArn>([^<]+)</PolicyArn>", text):
            docs.extend(self._documents_of_policy(_unescape(arn)))
        _s, text = self._call({"Action": "ListUserPolicies", "UserName": user})
        for name in re.findall(r"<member>([^<]+)</member>", text):
            _s, got = self._call({"Action": "GetUserPolicy", "UserName": user, "PolicyName": _unescape(name)})
            doc = re.search(r"<PolicyDocument>([^<]*)</PolicyDocument>", got)
            if doc:
                docs.append(_document(doc.group(1)))
        return docs

    # --- dispatch -----------------------------------------------------------------------------

    def handle(self, request):
        if request.path in ("", "/") and request.method == "GET":
            return Answer(200, {"service": "ips-lab iam front"})
        found = sigv4.problem(request, self.aws_keys)
        if found:
            raise iam_error(*AUTH_ERRORS[found[0]])
        body = request.body()
        form = dict((k, v[0]) for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items())
        if request.method == "POST" and form.get("Action") == "SimulatePrincipalPolicy":
            return self.simulate(form)
        headers = dict((k, v) for k, v in request.headers.items() if k.lower() not in ("host", "content-length", "connection"))
        headers["Content-Length"] = str(len(body))
        status, answer_headers, data = forward_read(self.moto, request.method, request.path + ("?" + request.query if request.query else ""),
                                                    headers, body)
        return Answer(status, data, {}, answer_headers.get("Content-Type") or "text/xml")

    def simulate(self, form):
        self.ensure_principal()
        source = form.get("PolicySourceArn") or ""
        match = re.match(r"^arn:aws:iam::(\d{12}):user/(?:[^/]+/)*([\w+=,.@-]+)$", source)
        if not match:
            raise iam_error(400, "InvalidInput", "PolicySourceArn '%s' is not the ARN of an IAM user (the lab's principals are users)." % source)
        actions = [v for k, v in sorted(form.items(), key=lambda kv: _member_index(kv[0])) if k.startswith("ActionNames.member.")]
        if not actions or len(actions) > 128:
            raise iam_error(400, "InvalidInput", "ActionNames must hold 1 to 128 action names (got %d)." % len(actions))
        bad = [a for a in actions if not ACTION_RE.match(a)]
        if bad:
            raise iam_error(400, "InvalidInput", "Action name '%s' is not of the form service:Action." % bad[0])
        resources = [v for k, v in sorted(form.items()) if k.startswith("ResourceArns.member.")] or ["*"]
        docs = self.documents(match.group(2))
        if docs is None:
            raise iam_error(404, "NoSuchEntity", "The user with name %s cannot be found." % match.group(2))
        members = "".join(
            "<member><EvalActionName>%s</EvalActionName><EvalResourceName>%s</EvalResourceName><EvalDecision>%s</EvalDecision>"
            "<MatchedStatements/><MissingContextValues/></member>" % (escape(a), escape(r), decide(docs, a, r))
            for a in actions for r in resources)
        xml = ('<SimulatePrincipalPolicyResponse xmlns="%s"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated>'
               '<EvaluationResults>%s</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>%s</RequestId>'
               '</ResponseMetadata></SimulatePrincipalPolicyResponse>' % (NS, members, uuid.uuid4()))
        return Answer(200, xml.encode("utf-8"), {}, "text/xml")


def _member_index(key):
    tail = key.rsplit(".", 1)[-1]
    return (key.rsplit(".", 1)[0], int(tail) if tail.isdigit() else 0)


def _quote(value):
    from urllib.parse import quote

    return quote(str(value), safe="")


def _unescape(text):
    return text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")


def _document(text):
    """A policy document as IAM returns it (URL-encoded JSON inside XML)."""
    from urllib.parse import unquote

    raw = _unescape(text)
    try:
        return json.loads(raw)
    except ValueError:
        return json.loads(unquote(raw))


def start(state_dir, config):
    return Running(IamFront(state_dir, config), config.get("host", "127.0.0.1"), config.get("port", 0))


def main(argv=None):
    return serve_main("python -m ips_lab.planes.iam_front", start, argv)


if __name__ == "__main__":
    raise SystemExit(main())
