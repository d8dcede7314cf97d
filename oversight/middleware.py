"""Answers for failures a person can act on, instead of a bare "Server Error (500)"."""

import errno
import logging

from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

FULL = (
    507,
    "The server has no room left to store the file; nothing was stored. The administrators have been told; "
    "try again later, or import the file on the server with manage.py import_uof.",
)
LOCKED = (
    503,
    "The server cannot write uploaded files just now (their folder is read-only or locked); nothing was stored. "
    "The administrators have been told; try again later.",
)
STORAGE_ERRORS = {
    errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EFBIG: FULL,
    errno.EROFS: LOCKED, errno.EACCES: LOCKED, errno.EPERM: LOCKED, errno.EBUSY: LOCKED,
}  # fmt: skip
RETRY_AFTER_SECONDS = 300


class StorageErrorMiddleware:
    """A file that cannot be stored (disk full, folder read-only or locked): a clear 507 or 503, logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OSError) or exception.errno not in STORAGE_ERRORS:
            return None
        status, message = STORAGE_ERRORS[exception.errno]
        # Logged as an error: the administrators are mailed when ADMINS is set, and the tracker told.
        logger.error(
            "Could not store a file for %s %s: %s", request.method, request.path, exception, exc_info=exception
        )
        if request.path.startswith("/api/"):
            response = JsonResponse({"message": message}, status=status)
        else:
            response = render(request, "storage_error.html", {"message": message}, status=status)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
