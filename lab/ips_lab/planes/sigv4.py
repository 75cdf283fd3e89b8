"""AWS Signature Version 4, checked for the lab's own AWS keys (IPS_LAB_AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY).

The canonical request and the signature are rebuilt with botocore's signer from what arrived (method, path, query,
the signed headers, the body) and the request's own X-Amz-Date, then compared with the one sent. The payload hash is
either the body's SHA-256 or UNSIGNED-PAYLOAD (what botocore signs an EBS block with over HTTPS); both are tried.
"""

import hmac
import re

AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*SignedHeaders=([^,]+),\s*"
                     r"Signature=([0-9a-f]{64})$")


def signature_problem(request, secrets):
    """None if the request is signed by a key of `secrets` ({access key id: secret}) with the right signature, or
    signed by a key the lab does not know (see docs/lab.md); else the reason, for a 403 SignatureDoesNotMatch."""
    match = AUTH_RE.match((request.headers.get("Authorization") or "").strip())
    if not match:
        return "the Authorization header is not an AWS4-HMAC-SHA256 signature"
    key, _date, region, service, signed, signature = match.groups()
    if key not in secrets:
        return None
    body = request.body()
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    names = signed.split(";")
    headers = dict((name, request.headers.get(name) or "") for name in names)
    url = "http://%s%s" % (request.headers.get("Host") or "localhost", request.raw_path + ("?" + request.query if request.query else ""))
    signer = SigV4Auth(Credentials(key, secrets[key], request.headers.get("X-Amz-Security-Token")), service, region)
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
            return None
    return "the signature does not match the one calculated with the secret of %s" % key


def _only(headers, names):
    from botocore.awsrequest import HeadersDict

    kept = HeadersDict()
    for name in names:
        if name in headers:
            kept[name] = headers[name]
    return kept
