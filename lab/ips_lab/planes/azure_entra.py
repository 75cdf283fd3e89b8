"""The Entra ID (v2.0) endpoints MSAL needs for the client-credentials flow, and the tokens ARM checks.

MSAL, with instance discovery disabled, asks for `/{tenant}/v2.0/.well-known/openid-configuration`
and then posts to the token endpoint named there. Tokens are HMAC-signed JWT-shaped strings (the
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
        if not secret:
            raise entra_error(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                              "'client_assertion' or 'client_secret'.")
        if not hmac.compare_digest(secret.encode("utf-8"), self.client_secret.encode("utf-8")):
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
