"""The site's 403 page, whose refusal is logged as one line."""

import logging

from django.views.defaults import permission_denied

logger = logging.getLogger("django.request")


def forbidden(request, exception):
    """The 403 page saying why; a refusal is an expected answer, so the log gets its reason, not a traceback."""
    response = permission_denied(request, exception)
    logger.warning(
        "Forbidden (Permission denied): %s: %s",
        request.path,
        str(exception) or "no reason given",
        extra={"status_code": 403, "request": request},
    )
    # Django logs the response again, traceback and all, unless it is marked as logged.
    response._has_been_logged = True
    return response
