"""The error every route raises, rendered as the RFC 7807-like body the lab answers with."""

TITLES = {
    400: ("validation", "One or more fields are invalid."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "The caller may not do this."),
    404: ("not-found", "Not found."),
    405: ("method-not-allowed", "Method not allowed."),
    406: ("not-acceptable", "The response cannot be given in an acceptable media type."),
    409: ("conflict", "Conflict."),
    413: ("too-large", "The request body is too large."),
    415: ("unsupported-media-type", "Unsupported media type."),
    429: ("too-many-requests", "Too many requests."),
    500: ("internal", "Internal error."),
    503: ("unavailable", "Service unavailable."),
}


class ApiError(Exception):
    """An HTTP error answer. `field` names the offending field (it goes into `errors`)."""

    def __init__(self, status, detail, field=None, errors=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = [detail]
        self.headers = dict(headers or {})

    def body(self):
        slug, title = TITLES.get(self.status, ("error", "Error."))
        return {"type": "https://errors.lab/%s" % slug, "title": title, "status": self.status,
                "detail": self.detail, "errors": self.errors}


def bad_request(field, message):
    return ApiError(400, message, field=field)


def not_found(what, ident):
    return ApiError(404, "No %s with id '%s' exists." % (what, ident), field="id")
