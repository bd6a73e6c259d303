"""Schemathesis checks for Vigie: a GraphQL error with a code for the client
(BAD_USER_INPUT, UNAUTHENTICATED, NOT_FOUND…) is the API working; an HTTP 5xx
or an INTERNAL error (or one without a code) is a failure."""

import schemathesis


@schemathesis.check
def no_server_error(ctx, response, case):
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"the answer is not JSON: {response.text[:300]}")
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None or code == "INTERNAL":
            raise AssertionError(f"an error without a client code: {error}")
