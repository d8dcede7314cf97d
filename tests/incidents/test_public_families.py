"""A force's suppressed family is made once per version of its summaries and kept in the database, where
every process reads it; one process at a time makes it, the others wait, and no version reads another's."""

import datetime
import threading

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction

from incidents import disclosure
from incidents.models import CedLevel, PublicFamily
from incidents.summaries import rebuild_summaries
from incidents.tasks import rebuild_summary_cells
from tests.factories import ReportFactory

DUMMY_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def reports_in(oxford, month, levels):
    for level in levels:
        ReportFactory(area=oxford, occurred_on=month, ced_levels=[level])


@pytest.fixture
def summarised(oxford):
    """Oxford's Taser reports in two months, summarised: small counts, so the family hides some."""
    reports_in(oxford, datetime.date(2025, 4, 10), [CedLevel.DRAWN] * 12 + [CedLevel.FIRED] * 2)
    reports_in(oxford, datetime.date(2025, 5, 10), [CedLevel.DRAWN] * 9 + [CedLevel.AIMED] * 3)
    rebuild_summaries(force_ids=["thames-valley"])
    return oxford.force


def test_the_task_after_a_rebuild_keeps_the_family_of_that_version_in_the_database(summarised):
    rebuild_summary_cells("thames-valley")
    (stored,) = PublicFamily.objects.filter(force=summarised)
    assert stored.key == disclosure.family_key(summarised)
    made = disclosure.suppressed_family(summarised)
    assert (stored.cells, stored.primary) == (made.cells, made.primary)
    assert disclosure.stored_family(summarised, stored.key).hidden == made.hidden
    assert made.hidden  # the two fired reports at least


def test_a_reader_with_an_empty_cache_serves_the_family_the_task_stored(summarised):
    rebuild_summary_cells("thames-valley")
    cache.clear()
    stored = PublicFamily.objects.get(force=summarised)
    marked = frozenset({("force", "month", datetime.date(2025, 4, 1), "reports")})
    stored.hidden = disclosure._encoded(marked)
    stored.save()
    # What the database holds is what is served: the reader made nothing of its own.
    assert disclosure.public_cells(summarised).hidden == marked


def test_a_second_reader_reads_the_family_the_first_made(summarised, settings):
    settings.CACHES = DUMMY_CACHE
    first = disclosure.public_cells(summarised)
    second = disclosure.public_cells(summarised)
    assert first.seconds > 0 and second.seconds == 0  # made, then read
    assert second.hidden == first.hidden
    assert PublicFamily.objects.filter(force=summarised).count() == 1


def test_a_new_version_of_the_summaries_never_reads_the_old_family(summarised, oxford):
    disclosure.prepare_public_cells(["thames-valley"])
    old = PublicFamily.objects.get(force=summarised).key
    reports_in(oxford, datetime.date(2025, 6, 10), [CedLevel.DRAWN] * 20 + [CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])
    family = disclosure.public_cells(summarised)
    assert family.key == disclosure.family_key(summarised) != old
    assert (oxford.pk, "month", datetime.date(2025, 6, 1), "level_fired") in family.hidden  # June's one discharge
    assert list(PublicFamily.objects.filter(force=summarised).values_list("key", flat=True)) == [family.key]


def test_a_force_without_summaries_has_an_empty_family(thames_valley):
    family = disclosure.public_cells(thames_valley)
    assert (family.hidden, family.cells) == (frozenset(), 0)


@pytest.mark.django_db(transaction=True)
def test_two_readers_at_once_make_the_family_once_and_both_serve_it(oxford, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database fails a second writer at once; its file database queues it.")
    settings.CACHES = DUMMY_CACHE
    reports_in(oxford, datetime.date(2025, 4, 10), [CedLevel.DRAWN] * 12 + [CedLevel.FIRED] * 2)
    rebuild_summaries(force_ids=["thames-valley"])
    start, families, errors = threading.Barrier(2), [], []

    def read():
        try:
            start.wait()
            families.append(disclosure.public_cells(oxford.force))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(family.seconds > 0 for family in families) == [False, True]  # one made it, one waited and read
    assert families[0].hidden == families[1].hidden
    assert PublicFamily.objects.filter(force=oxford.force).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_reader_kept_waiting_too_long_suppresses_the_family_itself_and_keeps_nothing(oxford, settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("The lock of a family is PostgreSQL's advisory lock; SQLite's is its one writer.")
    settings.CACHES = DUMMY_CACHE
    monkeypatch.setattr(disclosure, "FAMILY_LOCK_SECONDS", 1)
    reports_in(oxford, datetime.date(2025, 4, 10), [CedLevel.DRAWN] * 12 + [CedLevel.FIRED] * 2)
    rebuild_summaries(force_ids=["thames-valley"])
    held, done = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with transaction.atomic(), disclosure._family_lock(oxford.force):
                held.set()
                done.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert held.wait(30)
        family = disclosure.public_cells(oxford.force)
    finally:
        done.set()
        holder.join()
    assert family.hidden == disclosure.suppressed_family(oxford.force).hidden
    assert not PublicFamily.objects.filter(key=disclosure.family_key(oxford.force)).exists()
