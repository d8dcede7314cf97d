"""The one key builder of answers kept in the cache, which is also their ETag.

An answer is kept under a digest of everything it depends on: the figures version it was read at,
whose view it is (the public, or one user), the request's path and parameters, and the settings that
change a figure. When any of these changes, so does the key: nothing is ever invalidated, old
entries simply go unread and expire.
"""

import datetime
import hashlib

from django.conf import settings
from django.utils import timezone

# Entries are never stale (their key holds the version); this only bounds how long unread ones stay.
ANSWER_SECONDS = 60 * 60


def answer_key(kind: str, request, *depends_on) -> str:
    """The key (and ETag) of an answer of `kind` to `request`, given what else it depends on."""
    parts = (
        kind, request.path, sorted(request.GET.lists()), settings.SUPPRESSION_THRESHOLD,
        settings.SECONDARY_SUPPRESSION, timezone.localdate(), *depends_on,
    )  # fmt: skip
    return hashlib.md5(repr(parts).encode()).hexdigest()  # noqa: S324 - a cache key and validator, not a secret


def http_seconds(moment: datetime.datetime | None) -> int | None:
    """A Last-Modified time: HTTP dates have whole seconds."""
    return int(moment.timestamp()) if moment else None
