"""The Entra ID (v2.0) endpoints MSAL needs for the client-credentials flow, and the tokens ARM checks.

MSAL, with instance discovery disabled, asks for `/{tenant}/v2.0/.well-known/openid-configuration`
and then posts to the token endpoint named there. The app proves itself with its client secret, or with a
client assertion (a JWT signed RS256 or PS256 with the key of the certificate registered for the app, named by
its x5t or x5t#S256 thumbprint; aud the token endpoint, iss and sub the client id, not expired), as Entra
checks a certificate credential. Tokens are HMAC-signed JWT-shaped strings (the
signing key lives in the plane's config), so they stay valid across a restart of the plane.
Error bodies follow Entra: `{"error", "error_description", "error_codes", "timestamp",
"trace_id", "correlation_id"}`.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import parse_qs

from .base import Answer, HttpError

ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def entra_error(status, error, code, description):
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace = str(uuid.uuid4())
    body = {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (code, description, trace, trace, stamp),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": trace,
    }
    return HttpError(status, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})


class Entra(object):
    """Issues and checks tokens for one tenant and one app registration."""

    def __init__(self, config, base_url_getter):
        self.tenant = config["tenant_id"]
        self.client_id = config["client_id"]
        self.client_secret = config["client_secret"]
        self.msi_header = config.get("msi_header")
        self.certificate = None
        if config.get("client_certificate_path"):
            from cryptography import x509

            with open(config["client_certificate_path"], "rb") as src:
                self.certificate = x509.load_pem_x509_certificate(src.read())
        self.key = config["token_key"].encode("utf-8")
        self.ttl = int(config.get("token_ttl", 3600))
        self._base_url = base_url_getter

    # --- the endpoints ------------------------------------------------------------------------

    def handle(self, request, parts):
        """parts = path segments; parts[0] is the tenant. Returns an Answer or None (not ours)."""
        tail = "/".join(parts[1:])
        if tail not in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration",
                        "oauth2/v2.0/token", "discovery/v2.0/keys"):
            return None
        tenant = parts[0]
        if tenant.lower() not in (self.tenant.lower(), "organizations"):
            raise entra_error(400, "invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID "
                              "and are signing into the correct cloud." % tenant)
        if tail.endswith("openid-configuration") and request.method == "GET":
            return Answer(200, self.openid_configuration())
        if tail == "discovery/v2.0/keys" and request.method == "GET":
            return Answer(200, {"keys": []})
        if tail == "oauth2/v2.0/token" and request.method == "POST":
            return self.token(request)
        raise HttpError(405, {"error": "invalid_request", "error_description": "method %s not allowed" % request.method})

    def openid_configuration(self):
        base = "%s/%s" % (self._base_url(), self.tenant)
        return {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": base + "/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": base + "/oidc/userinfo",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
        }

    def token(self, request):
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise entra_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        form = {k: v[0] for k, v in parse_qs(request.body(1024 * 1024).decode("utf-8", "replace")).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                client_id, secret = base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)
            except (ValueError, UnicodeDecodeError):
                raise entra_error(401, "invalid_client", 7000216, "The client credentials in the Authorization header are malformed.")
        grant = form.get("grant_type")
        if not grant:
            raise entra_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            raise entra_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'." % grant)
        if not client_id:
            raise entra_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
        if client_id != self.client_id:
            raise entra_error(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory "
                              "'%s'." % (client_id, self.tenant))
        if form.get("client_assertion"):
            self.check_assertion(form, client_id)
        elif not secret:
            raise entra_error(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                              "'client_assertion' or 'client_secret'.")
        elif not hmac.compare_digest(secret.encode("utf-8"), self.client_secret.encode("utf-8")):
            raise entra_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the "
                              "request is the client secret value, not the client secret ID, for a secret added to app '%s'." % client_id)
        scope = (form.get("scope") or "").strip()
        resource = scope[:-len("/.default")] if scope.endswith("/.default") else None
        if not scope:
            raise entra_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        if resource is None or " " in scope:
            raise entra_error(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows "
                              "must have a scope value with /.default suffixed to the resource identifier "
                              "(application ID URI)." % scope)
        if resource.rstrip("/") not in ARM_AUDIENCES:
            raise entra_error(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named "
                              "%s." % (resource, self.tenant))
        now = int(time.time())
        token = self.issue(resource.rstrip("/"), now)
        return Answer(200, {"token_type": "Bearer", "expires_in": self.ttl, "ext_expires_in": self.ttl, "access_token": token},
                      {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    def managed_identity_token(self, request):
        """The App Service managed identity endpoint (IDENTITY_ENDPOINT, api-version 2019-08-01): GET with the
        X-IDENTITY-HEADER secret and `resource`; answers the host identity's token for ARM."""
        if request.method != "GET":
            raise HttpError(405, {"error": "invalid_request", "error_description": "GET only"})
        given = request.headers.get("X-IDENTITY-HEADER") or ""
        if not self.msi_header or not hmac.compare_digest(given.encode("utf-8"), self.msi_header.encode("utf-8")):
            raise HttpError(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER is missing or wrong."})
        if request.params.get("api-version") != "2019-08-01":
            raise HttpError(400, {"statusCode": 400, "message": "api-version 2019-08-01 is required."})
        resource = (request.params.get("resource") or "").rstrip("/")
        if resource.endswith("/.default"):
            resource = resource[:-len("/.default")]
        if resource not in ARM_AUDIENCES:
            raise HttpError(400, {"statusCode": 400, "message": "The resource %r is not known." % resource})
        now = int(time.time())
        return Answer(200, {"access_token": self.issue(resource, now), "expires_on": str(now + self.ttl), "resource": resource + "/",
                            "token_type": "Bearer", "client_id": self.client_id})

    def check_assertion(self, form, client_id):
        """A certificate credential's client assertion, checked as Entra does; raises the Entra error."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise entra_error(400, "invalid_request", 50027, "Invalid client_assertion_type.")
        try:
            head_b64, body_b64, sig_b64 = form["client_assertion"].split(".")
            head, claims = json.loads(_unb64(head_b64)), json.loads(_unb64(body_b64))
            signature = _unb64(sig_b64)
        except (ValueError, TypeError):
            raise entra_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        if self.certificate is None:
            raise entra_error(401, "invalid_client", 700027, "The app has no certificate credential.")
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        thumbs = {"x5t": _b64(hashlib.sha1(der).digest()), "x5t#S256": _b64(hashlib.sha256(der).digest())}  # nosec - Entra's x5t
        if not any(head.get(k) and head[k].rstrip("=") == v for k, v in thumbs.items()):
            raise entra_error(401, "invalid_client", 700027, "The certificate with identifier used to sign the client assertion is "
                              "not registered on application. [Reason - The key was not found.]")
        pad = {"RS256": padding.PKCS1v15(), "PS256": padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)}.get(head.get("alg"))
        if pad is None:
            raise entra_error(401, "invalid_client", 5002738, "Invalid JWT token. '%s' is not a supported signature algorithm."
                              % head.get("alg"))
        try:
            self.certificate.public_key().verify(signature, ("%s.%s" % (head_b64, body_b64)).encode(), pad, hashes.SHA256())
        except InvalidSignature:
            raise entra_error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        now = time.time()
        token_url = self.openid_configuration()["token_endpoint"]
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise entra_error(401, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer.")
        if claims.get("aud") not in (token_url, token_url.replace("/oauth2/v2.0/token", "/oauth2/token")):
            raise entra_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range or audience.")
        if float(claims.get("exp", 0)) < now or float(claims.get("nbf", 0)) > now + 300:
            raise entra_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")

    # --- tokens -------------------------------------------------------------------------------

    def issue(self, audience, now):
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "ips-lab"}).encode())
        claims = {"aud": audience + "/", "iss": "%s/%s/v2.0" % (self._base_url(), self.tenant), "iat": now, "nbf": now,
                  "exp": now + self.ttl, "tid": self.tenant, "appid": self.client_id, "oid": str(uuid.uuid4()), "ver": "1.0"}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing = ("%s.%s" % (header, payload)).encode()
        return "%s.%s.%s" % (header, payload, _b64(hmac.new(self.key, signing, hashlib.sha256).digest()))

    def check(self, authorization):
        """The claims of a valid ARM bearer token, else the ARM 401 error (code, message)."""
        if not authorization:
            return None, ("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, token = (authorization.split(" ", 1) + [""])[:2]
        if scheme.lower() != "bearer" or not token.strip():
            return None, ("AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.")
        pieces = token.strip().split(".")
        if len(pieces) != 3:
            return None, ("InvalidAuthenticationToken", "The access token is invalid.")
        expected = _b64(hmac.new(self.key, ("%s.%s" % (pieces[0], pieces[1])).encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, pieces[2]):
            return None, ("InvalidAuthenticationToken", "The access token is invalid.")
        claims = json.loads(_unb64(pieces[1]))
        if claims.get("exp", 0) < time.time():
            return None, ("ExpiredAuthenticationToken", "The access token expiry UTC time '%s' is earlier than current UTC time '%s'."
                          % (time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(claims.get("exp", 0))),
                             time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())))
        if claims.get("aud", "").rstrip("/") not in ARM_AUDIENCES:
            return None, ("InvalidAuthenticationTokenAudience", "The access token has been obtained for wrong audience or resource "
                          "'%s'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/',"
                          "'https://management.azure.com/'." % claims.get("aud"))
        if claims.get("tid") != self.tenant:
            return None, ("InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer.")
        return claims, None
