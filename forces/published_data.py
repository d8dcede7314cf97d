"""Fetching the published files of the manifest (published_data.toml): download, verify, put in place.

A file is kept only once its SHA-256 is the manifest's (or, for a file the manifest has no checksum
for yet, when the caller accepts it): a partial, altered or unexpected download leaves nothing behind.
"""

import hashlib
import os
import tempfile
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

MANIFEST = Path(settings.BASE_DIR) / "published_data.toml"
# Seconds to connect and between two reads: a stalled server fails instead of hanging the command.
TIMEOUT = 60
CHUNK = 1 << 16


class FetchError(Exception):
    """A file that could not be fetched or verified, in one sentence."""


@dataclass(frozen=True)
class PublishedFile:
    name: str
    title: str
    page: str
    url: str
    sha256: str
    licence: str
    target: str
    extract: str = ""


@dataclass(frozen=True)
class Fetched:
    file: PublishedFile
    path: Path
    sha256: str
    outcome: str  # "present", "downloaded", "accepted" (no checksum recorded) or "unverified" (the same, already there)


def shared_data_folder():
    """Where the importers' examples and the tests look: SHARED_DATA, or ../shared/data beside the project."""
    return Path(os.environ.get("SHARED_DATA") or Path(settings.BASE_DIR).parent / "shared" / "data")


def load_manifest(path=MANIFEST):
    with open(path, "rb") as handle:
        entries = tomllib.load(handle)
    return [PublishedFile(name=name, **fields) for name, fields in entries.items()]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(file, into, accept_new=False, timeout=TIMEOUT):
    """Fetch one file into the folder `into` unless a verified copy is there; Fetched, or FetchError."""
    path = Path(into) / file.target
    if path.is_file() and file.sha256:
        found = sha256_of(path)
        if found == file.sha256:
            extract_member(file, path)
            return Fetched(file, path, found, "present")
        raise FetchError(
            f"{path} has SHA-256 {found}, not the manifest's {file.sha256} for {file.title}: remove it and fetch again."
        )
    if path.is_file():
        # Accepted on an earlier run: what the importers read comes out of it as from a verified one.
        extract_member(file, path)
        return Fetched(file, path, sha256_of(path), "unverified")
    if not file.url:
        raise FetchError(
            f"No download address is recorded for {file.title}: download it from {file.page} to {path} "
            "and run again to check it."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = download(file, path.parent, timeout)
    try:
        found = sha256_of(partial)
        if file.sha256 and found != file.sha256:
            raise FetchError(
                f"{file.url} sent a file with SHA-256 {found}, not the manifest's {file.sha256}: nothing kept. "
                f"The publisher may have replaced it; check {file.page}."
            )
        if not file.sha256 and not accept_new:
            raise FetchError(
                f"The manifest has no SHA-256 for {file.title} yet; the file from {file.url} has {found}. "
                f"Check it against {file.page}, then record it in the manifest or run again with --accept-new: "
                "nothing kept."
            )
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
    extract_member(file, path)
    return Fetched(file, path, found, "downloaded" if file.sha256 else "accepted")


def download(file, folder, timeout):
    """The body of file.url in a temporary file in `folder` (the same disk, so moving it into place is atomic)."""
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".fetching-")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(file.url, timeout=timeout) as response:  # noqa: S310 - the manifest's https addresses, or a test's local server
            while chunk := response.read(CHUNK):
                out.write(chunk)
    except urllib.error.HTTPError as error:
        Path(partial).unlink(missing_ok=True)
        raise FetchError(f"{file.url} answered {error.code} {error.reason}: {file.title} not fetched.") from None
    except (urllib.error.URLError, OSError) as error:
        Path(partial).unlink(missing_ok=True)
        reason = getattr(error, "reason", None) or error
        raise FetchError(f"{file.url} could not be reached ({reason}): {file.title} not fetched.") from None
    return partial


def extract_member(file, path):
    """The member of a ZIP the importers read, written beside it (once)."""
    if not file.extract:
        return
    member = path.parent / file.extract
    if member.is_file():
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = {Path(name).name: name for name in archive.namelist()}
            if file.extract not in names:
                raise FetchError(f"{path} holds no {file.extract}.")
            with archive.open(names[file.extract]) as source, open(member, "wb") as out:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
    except zipfile.BadZipFile:
        raise FetchError(f"{path} is not a ZIP file, so {file.extract} cannot be taken from it.") from None
