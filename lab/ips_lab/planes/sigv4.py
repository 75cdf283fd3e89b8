"""AWS Signature Version 4, checked against the lab's own AWS keys, as AWS checks every signed call.

The lab has two keys (written by its EBS launcher into the env file): a long-term one
(IPS_LAB_AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY) and a temporary one as STS would issue it
(IPS_LAB_AWS_SESSION_ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _TOKEN), which is valid only with its session token.
A key the lab did not issue is unknown, as a made-up key is to AWS; each front answers that, and a wrong
signature, with its own service's error (see `problem`).

The canonical request and the signature are rebuilt with botocore's signer from what arrived (method, path, query,
the signed headers, the body) and the request's own X-Amz-Date, then compared with the one sent. The payload hash is
either the body's SHA-256 or UNSIGNED-PAYLOAD (what botocore signs an EBS block with over HTTPS); both are tried.
"""

import hmac
import re

AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*SignedHeaders=([^,]+),\s*"
                     r"Signature=([0-9a-f]{64})$")

# the kinds of problem `problem` finds; each front turns them into its service's error
UNSIGNED = "unsigned"
UNKNOWN_KEY = "unknown key"
BAD_SIGNATURE = "bad signature"


def keys_of(config):
    """{access key id: (secret, session token or None)} from a front's config (`aws_keys`: {id: {secret, token}})."""
    keys = {}
    for key, value in (config.get("aws_keys") or {}).items():
        if isinstance(value, dict):
            keys[key] = (value.get("secret") or "", value.get("token"))
        else:  # a lab started before temporary keys: {id: secret}
            keys[key] = (value, None)
    return keys


def problem(request, keys):
    """None if the request is signed by a key of `keys` ({id: (secret, token)}), with the token a temporary key needs and
    the right signature; else (kind, reason) with kind UNSIGNED, UNKNOWN_KEY or BAD_SIGNATURE."""
    auth = (request.headers.get("Authorization") or "").strip()
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return UNSIGNED, "the request carries no AWS4-HMAC-SHA256 Authorization header"
    match = AUTH_RE.match(auth)
    if not match:
        return BAD_SIGNATURE, "the Authorization header is not a well-formed AWS4-HMAC-SHA256 signature"
    key, _date, region, service, signed, signature = match.groups()
    if key not in keys:
        return UNKNOWN_KEY, "the access key id %s is not one the lab issued (IPS_LAB_AWS_ACCESS_KEY_ID)" % key
    secret, token = keys[key]
    sent_token = request.headers.get("X-Amz-Security-Token")
    if token is not None and not (sent_token and hmac.compare_digest(sent_token, token)):
        return UNKNOWN_KEY, "the temporary key %s needs its session token (IPS_LAB_AWS_SESSION_TOKEN)" % key
    if token is None and sent_token:
        return UNKNOWN_KEY, "the long-term key %s carries a session token it was not issued with" % key
    if not _signature_matches(request, key, secret, sent_token, region, service, signed.split(";"), signature):
        return BAD_SIGNATURE, "the signature does not match the one calculated with the secret of %s" % key
    return None


def _signature_matches(request, key, secret, token, region, service, names, signature):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = request.body()
    headers = dict((name, request.headers.get(name) or "") for name in names)
    url = "http://%s%s" % (request.headers.get("Host") or "localhost", request.raw_path + ("?" + request.query if request.query else ""))
    signer = SigV4Auth(Credentials(key, secret, token), service, region)
    for unsigned in (False, True):
        aws_request = AWSRequest(method=request.method, url=url, data=body or b"", headers=headers)
        aws_request.context["timestamp"] = request.headers.get("X-Amz-Date") or ""
        if unsigned:
            aws_request.context["payload_signing_enabled"] = False
            aws_request.url = aws_request.url.replace("http://", "https://", 1)
        aws_request.headers = _only(aws_request.headers, names)
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if hmac.compare_digest(expected, signature):
            return True
    return False


def _only(headers, names):
    from botocore.awsrequest import HeadersDict

    kept = HeadersDict()
    for name in names:
        if name in headers:
            kept[name] = headers[name]
    return kept
