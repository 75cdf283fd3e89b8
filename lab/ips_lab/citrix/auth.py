"""Citrix Cloud client-credentials tokens: issue at /cctrustoauth2/.../tokens/clients, check on IPS calls.

Only a digest of each token is stored, so the state dir holds no bearer token in clear.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
from urllib.parse import parse_qs

from ..common.errors import ApiError

_AUTH_HEADER = re.compile(r"^\s*cwsauth\s+bearer\s*=\s*(\S+)\s*$", re.IGNORECASE)
FORM_TYPE = "application/x-www-form-urlencoded"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens(object):
    def __init__(self, store, clock, runtime, config):
        self._store = store
        self._clock = clock
        self._runtime = runtime
        self._config = config

    def issue(self, path_customer, content_type, raw_body):
        """The token endpoint: form-encoded client credentials -> the token response body."""
        if (content_type or "").split(";")[0].strip().lower() != FORM_TYPE:
            raise ApiError(415, "The token request must be %s (got '%s')." % (FORM_TYPE, content_type or ""), field="Content-Type")
        try:
            form = parse_qs(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw_body))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "The token request body is not valid form encoding.", field="body")
        values = {k: v[0] for k, v in form.items()}
        for name in ("grant_type", "client_id", "client_secret"):
            if not values.get(name):
                raise ApiError(400, "The form field '%s' is required." % name, field=name)
        if values["grant_type"] != "client_credentials":
            raise ApiError(400, "The form field 'grant_type' must be client_credentials (got '%s')." % values["grant_type"], field="grant_type")
        customer = self._config["customer_id"]
        if path_customer not in ("root", customer):
            raise ApiError(401, "The customer '%s' in the token path is not known." % path_customer, field="customerId")
        good_id = hmac.compare_digest(values["client_id"], self._config["client_id"])
        good_secret = hmac.compare_digest(values["client_secret"], self._config["client_secret"])
        if not (good_id and good_secret):
            raise ApiError(401, "The client id or client secret is not valid.", field="client_id")
        return self._new_token(customer, values["client_id"])

    def new_token(self, customer, subject):
        """A token of `customer` for `subject` (the DaaS on-premises sign-in issues its own): (token, expires_at)."""
        answer = self._new_token(customer, subject)
        return answer["access_token"], self._clock.now() + float(answer["expires_in"])

    def _new_token(self, customer, client_id):
        ttl = self._runtime.get("token_ttl")
        now = self._clock.now()
        # JWT-like, so clients that decode the payload (customers[0].Geo) find what they expect.
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps({
            "sub": client_id, "iat": int(now), "exp": int(now + ttl), "jti": secrets.token_hex(8),
            "customers": json.dumps([{"CustomerId": customer, "Geo": "US"}]),
        }).encode())
        token = "%s.%s.%s" % (header, payload, _b64(secrets.token_bytes(32)))
        self._store.insert("tokens", {"digest": _digest(token), "customer_id": customer, "expires_at": now + ttl})
        return {"token_type": "bearer", "access_token": token, "expires_in": str(int(ttl))}

    def check(self, headers):
        """Authorization + Citrix-CustomerId of an IPS call: 401 bad/expired token, 403 other customer."""
        header = headers.get("Authorization")
        if not header:
            raise ApiError(401, "The Authorization header is missing; send 'CwsAuth Bearer=<token>'.", field="Authorization")
        match = _AUTH_HEADER.match(header)
        if not match:
            raise ApiError(401, "The Authorization header must have the form 'CwsAuth Bearer=<token>'.", field="Authorization")
        row = self._store.one("SELECT customer_id, expires_at FROM tokens WHERE digest = ?", (_digest(match.group(1)),))
        if row is None:
            raise ApiError(401, "The bearer token is not known.", field="Authorization")
        if row["expires_at"] <= self._clock.now():
            raise ApiError(401, "The bearer token has expired; request a new one.", field="Authorization")
        customer = headers.get("Citrix-CustomerId")
        if not customer:
            raise ApiError(403, "The Citrix-CustomerId header is missing.", field="Citrix-CustomerId")
        if customer != row["customer_id"]:
            raise ApiError(403, "The Citrix-CustomerId '%s' does not match the token's customer." % customer, field="Citrix-CustomerId")
