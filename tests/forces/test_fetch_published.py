"""fetch_published against a web server of the test's own on 127.0.0.1, serving small files it makes."""

import hashlib
import io
import threading
import tomllib
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forces.published_data import MANIFEST
from tests.conftest import HOME_OFFICE_TABLES_2019_20, ONS_LOOKUP, SHARED_DATA, published

TABLES = b"a small stand-in for a Home Office workbook"


@pytest.fixture
def server():
    """A server answering each path from server.files (status, body), counting the requests it had."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            served.requests.append(self.path)
            status, body = served.files.get(self.path, (404, b"not here"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    served = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.files, served.requests = {}, []
    served.url = f"http://127.0.0.1:{served.server_address[1]}"
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


def manifest(tmp_path, **entries):
    """A manifest file of the entries given, each a dict of the fields it sets over a default."""
    lines = []
    for name, fields in entries.items():
        entry = {
            "title": f"the {name} file", "page": "https://www.gov.uk/a-page", "url": "", "sha256": "",
            "licence": "Open Government Licence v3.0", "target": f"home-office/{name}.ods", **fields,
        }  # fmt: skip
        lines.append(f"[{name}]")
        lines += [f'{key} = "{value}"' for key, value in entry.items()]
    path = tmp_path / "manifest.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def fetch_published(tmp_path, manifest_path, *args):
    out = StringIO()
    call_command("fetch_published", *args, manifest=manifest_path, into=str(tmp_path / "data"), stdout=out)
    return out.getvalue()


def files_in(folder):
    return sorted(str(path.relative_to(folder)) for path in Path(folder).rglob("*") if path.is_file())


def test_a_file_whose_checksum_matches_is_put_where_the_importers_look(server, tmp_path):
    server.files["/tables.ods"] = (200, TABLES)
    entries = manifest(
        tmp_path, tables={"url": f"{server.url}/tables.ods", "sha256": hashlib.sha256(TABLES).hexdigest()}
    )
    output = fetch_published(tmp_path, entries)
    assert (tmp_path / "data" / "home-office" / "tables.ods").read_bytes() == TABLES
    assert "tables: " in output and "downloaded, SHA-256 verified" in output


def test_a_verified_file_is_not_downloaded_again(server, tmp_path):
    server.files["/tables.ods"] = (200, TABLES)
    entries = manifest(
        tmp_path, tables={"url": f"{server.url}/tables.ods", "sha256": hashlib.sha256(TABLES).hexdigest()}
    )
    fetch_published(tmp_path, entries)
    output = fetch_published(tmp_path, entries)
    assert server.requests == ["/tables.ods"]
    assert "present, SHA-256 verified" in output


def test_a_file_whose_checksum_differs_is_refused_and_nothing_is_left(server, tmp_path):
    server.files["/tables.ods"] = (200, b"someone else's workbook")
    entries = manifest(
        tmp_path, tables={"url": f"{server.url}/tables.ods", "sha256": hashlib.sha256(TABLES).hexdigest()}
    )
    with pytest.raises(CommandError, match=r"sent a file with SHA-256 [0-9a-f]{64}, not the manifest's .*nothing kept"):
        fetch_published(tmp_path, entries)
    assert files_in(tmp_path / "data") == []


def test_a_server_error_is_said_in_one_sentence(server, tmp_path):
    server.files["/tables.ods"] = (500, b"oops")
    entries = manifest(
        tmp_path, tables={"url": f"{server.url}/tables.ods", "sha256": hashlib.sha256(TABLES).hexdigest()}
    )
    with pytest.raises(CommandError) as refused:
        fetch_published(tmp_path, entries)
    assert (
        str(refused.value)
        == f"{server.url}/tables.ods answered 500 Internal Server Error: the tables file not fetched."
    )
    assert files_in(tmp_path / "data") == []


def test_a_server_that_does_not_answer_is_named(tmp_path):
    # Nothing listens on port 1.
    entries = manifest(tmp_path, tables={"url": "http://127.0.0.1:1/tables.ods", "sha256": "0" * 64})
    with pytest.raises(CommandError, match=r"^http://127.0.0.1:1/tables.ods could not be reached \(.*refused"):
        fetch_published(tmp_path, entries)


def test_a_file_without_a_recorded_checksum_is_kept_only_when_accepted(server, tmp_path):
    server.files["/new.ods"] = (200, TABLES)
    entries = manifest(tmp_path, new={"url": f"{server.url}/new.ods"})
    checksum = hashlib.sha256(TABLES).hexdigest()
    with pytest.raises(CommandError, match=f"has {checksum}. Check it against .* --accept-new: nothing kept"):
        fetch_published(tmp_path, entries)
    assert files_in(tmp_path / "data") == []

    output = fetch_published(tmp_path, entries, "--accept-new")
    assert (tmp_path / "data" / "home-office" / "new.ods").read_bytes() == TABLES
    assert f"kept with SHA-256 {checksum}, which the manifest does not hold yet" in output


def test_a_file_with_no_download_address_says_where_to_get_it(tmp_path):
    entries = manifest(tmp_path, lookup={"sha256": hashlib.sha256(TABLES).hexdigest(), "target": "ons/lookup.csv"})
    with pytest.raises(CommandError, match="No download address is recorded for the lookup file: download it from"):
        fetch_published(tmp_path, entries)
    (tmp_path / "data" / "ons").mkdir(parents=True)
    (tmp_path / "data" / "ons" / "lookup.csv").write_bytes(TABLES)
    assert "present, SHA-256 verified" in fetch_published(tmp_path, entries)


def test_the_census_table_by_local_authority_is_taken_out_of_its_zip(server, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("census2021-ts021-ltla.csv", "date,geography,geography code\n")
        zipped.writestr("census2021-ts021-lsoa.csv", "not wanted\n")
    body = archive.getvalue()
    server.files["/ts021.zip"] = (200, body)
    entries = manifest(tmp_path, census={
        "url": f"{server.url}/ts021.zip", "sha256": hashlib.sha256(body).hexdigest(),
        "target": "census/census2021-ts021.zip", "extract": "census2021-ts021-ltla.csv",
    })  # fmt: skip
    fetch_published(tmp_path, entries)
    assert files_in(tmp_path / "data") == ["census/census2021-ts021-ltla.csv", "census/census2021-ts021.zip"]
    assert (tmp_path / "data" / "census" / "census2021-ts021-ltla.csv").read_text().startswith("date,geography")


def test_a_zip_kept_without_a_checksum_gives_its_table_on_the_next_run_without_downloading(server, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("census2021-ts021-ltla.csv", "date,geography,geography code\n")
    server.files["/ts021.zip"] = (200, archive.getvalue())
    entries = manifest(tmp_path, census={
        "url": f"{server.url}/ts021.zip", "target": "census/census2021-ts021.zip",
        "extract": "census2021-ts021-ltla.csv",
    })  # fmt: skip
    checksum = hashlib.sha256(archive.getvalue()).hexdigest()
    assert f"kept with SHA-256 {checksum}" in fetch_published(tmp_path, entries, "--accept-new")
    (tmp_path / "data" / "census" / "census2021-ts021-ltla.csv").unlink()
    output = fetch_published(tmp_path, entries)
    assert f"is there with SHA-256 {checksum}, which the manifest does not hold yet" in output
    assert files_in(tmp_path / "data") == ["census/census2021-ts021-ltla.csv", "census/census2021-ts021.zip"]
    assert server.requests == ["/ts021.zip"]


def test_an_entry_the_manifest_lacks_is_refused_by_name(tmp_path):
    entries = manifest(tmp_path, tables={"url": "http://127.0.0.1:1/x"})
    with pytest.raises(CommandError, match="The manifest has no entry tabels; it has tables."):
        fetch_published(tmp_path, entries, "tabels")


def test_the_manifest_fetches_every_file_the_tests_read_with_the_checksums_of_ours():
    with open(MANIFEST, "rb") as handle:
        entries = tomllib.load(handle).values()
    targets = {entry["target"]: entry for entry in entries}
    for needed in (ONS_LOOKUP, HOME_OFFICE_TABLES_2019_20):
        entry = targets[str(needed.relative_to(SHARED_DATA))]
        assert entry["sha256"] == hashlib.sha256(published(needed).read_bytes()).hexdigest()
    assert all(entry["licence"] and entry["page"] for entry in entries)


def test_a_file_that_cannot_be_fetched_does_not_stop_the_others(server, tmp_path):
    server.files["/tables.ods"] = (200, TABLES)
    entries = manifest(
        tmp_path,
        lookup={"target": "ons/lookup.csv", "sha256": "0" * 64},
        tables={"url": f"{server.url}/tables.ods", "sha256": hashlib.sha256(TABLES).hexdigest()},
    )
    with pytest.raises(CommandError, match="^No download address is recorded for the lookup file"):
        fetch_published(tmp_path, entries)
    assert files_in(tmp_path / "data") == ["home-office/tables.ods"]
