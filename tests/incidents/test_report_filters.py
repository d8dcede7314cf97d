"""The reports' filters give the same reports as they did with DISTINCT, once each, and read no DISTINCT.

The API's `reports/` and the `/reports/` page share one filter class; each filter is checked
alone, in pairs and with several values, on reports made by the factories (some with several
CED uses each, which a join would repeat), against the rows worked out in Python from the
reports themselves and against the same filters with django-filter's DISTINCT put back.
"""

import datetime
import itertools
import random

import django_filters
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forces.models import Area, Force
from incidents.filters import LEVELS_BY_NAME, LOCATION_GROUP_NAMES, OPTIONS, ReportFilter
from incidents.models import (
    DISCHARGE_LEVELS,
    NON_DISCHARGE_LEVELS,
    VALUE_INDEXES,
    AgeBand,
    CedLevel,
    Ethnicity,
    Gender,
    HealthCondition,
    OfficerInjury,
    SubjectInjury,
    UseOfForceReport,
    YesNoNotStated,
)
from incidents.queries import reports_visible_to
from tests.conftest import make_lambeth, make_oxford, rows_for_a_module
from tests.factories import (
    AreaFactory,
    CaseSampleFactory,
    CedUseFactory,
    PanelMemberFactory,
    ReportFactory,
    SampledCaseFactory,
)

API = "/api/v1/reports/"
LADDER = [CedLevel.DRAWN, CedLevel.AIMED, CedLevel.RED_DOTTED, CedLevel.ARCED, CedLevel.FIRED]


def ticked_names(list_name, prefix):
    return [column.removeprefix(prefix) for column, _ in OPTIONS[list_name]]


@pytest.fixture(scope="module")
def many_reports_of_the_module(django_db_setup, django_db_blocker):
    # Made once for the module's tests, which read them; each test's own changes are rolled back after it.
    with rows_for_a_module(django_db_blocker) as (thames_valley, metropolitan):
        yield make_many_reports(make_oxford(thames_valley), thames_valley, make_lambeth(metropolitan))


@pytest.fixture
def many_reports(many_reports_of_the_module, db):
    return many_reports_of_the_module


@pytest.fixture
def oxford(many_reports_of_the_module, db):
    return Area.objects.get(code="E22000155")


def make_many_reports(oxford, thames_valley, lambeth):
    """60 Thames Valley reports over two areas and three months with every kind of detail mixed at random
    (a fixed seed), a third with two or three CED uses; and one Met report that no filter may bring in."""
    chance = random.Random(24)  # noqa: S311 - test data, not a secret
    reading = AreaFactory(force=thames_valley, name="Reading", code="E22000160")
    flags = [column for list_name, _ in (("outcomes", 0), ("reasons", 0), ("impact_factors", 0), ("locations", 0))
             for column, _ in OPTIONS[list_name]]  # fmt: skip
    reports = []
    for number in range(60):
        levels = chance.sample(LADDER, chance.randint(0, 2)) if number % 4 else []
        report = ReportFactory(
            area=chance.choice([oxford, reading]),
            occurred_on=datetime.date(2025, chance.randint(5, 7), chance.randint(1, 3)),
            # One in four without Taser; a few with Taser but no level stated.
            ced_levels=levels if number % 4 else None,
            subject_ethnicity=chance.choice(Ethnicity.values),
            subject_age=chance.choice(AgeBand.values),
            subject_gender=chance.choice(Gender.values),
            subject_health=chance.choice(HealthCondition.values),
            subject_injury=chance.choice(SubjectInjury.values),
            officer_injury=chance.choice(OfficerInjury.values),
            body_worn_video=chance.choice(YesNoNotStated.values),
            **{flag: chance.random() < 0.3 for flag in flags},
        )
        if levels:
            for device in range(1, chance.choice([1, 2, 2, 3]) + 1):
                CedUseFactory(report=report, device_number=device, cycle_extended=chance.choice([True, False, None]))
        reports.append(report)
    met = ReportFactory(
        area=lambeth, subject_ethnicity=Ethnicity.BLACK, ced_levels=[CedLevel.FIRED], outcome_arrested=True
    )
    CedUseFactory(report=met, cycle_extended=True)
    CedUseFactory(report=met, device_number=2, cycle_extended=True)
    return reports


def any_of(prefix):
    return lambda report, values: any(getattr(report, f"{prefix}{value}") for value in values)


def extended(report):
    return any(use.cycle_extended for use in report.ced_uses.all())


# What each filter means, worked out from a report in Python: (filter, its values in a query, matches).
MEANINGS = {
    "from": (["2025-06-01"], lambda report, value: report.occurred_on >= datetime.date.fromisoformat(value)),
    "to": (["2025-06-30"], lambda report, value: report.occurred_on <= datetime.date.fromisoformat(value)),
    "area": (["E22000160"], lambda report, value: report.area.code == value),
    "highest_level": (
        [["fired"], ["drawn", "aimed"], ["red_dotted", "arced", "fired"]],
        lambda report, values: report.highest_ced_level in [LEVELS_BY_NAME[value] for value in values],
    ),
    "discharge_group": (
        ["discharge", "non_discharge", "no_taser"],
        lambda report, value: {
            "discharge": report.highest_ced_level in DISCHARGE_LEVELS,
            "non_discharge": report.highest_ced_level in NON_DISCHARGE_LEVELS,
            "no_taser": not report.ced_used,
        }[value],
    ),
    "ethnicity": ([["black"], ["white", "asian"], Ethnicity.values[:-1]], lambda r, v: r.subject_ethnicity in v),
    "age_band": ([["18_34"], ["under_11", "65_plus"]], lambda r, v: r.subject_age in v),
    "gender": ([["female"], ["male", "not_reported"]], lambda r, v: r.subject_gender in v),
    "health_condition": ([["mental"], ["physical", "none"]], lambda r, v: r.subject_health in v),
    "subject_injury": ([["minor"], ["severe", "death"]], lambda r, v: r.subject_injury in v),
    "officer_injury": ([["none"], ["minor", "severe"]], lambda r, v: r.officer_injury in v),
    "outcome": ([["arrested"], ["hospitalised", "fatality", "other"]], any_of("outcome_")),
    "reason": ([ticked_names("reasons", "reason_")[:1], ticked_names("reasons", "reason_")[1:4]], any_of("reason_")),
    "impact_factor": (
        [ticked_names("impact_factors", "impact_")[:1], ticked_names("impact_factors", "impact_")[2:5]],
        any_of("impact_"),
    ),
    "location_group": (
        [["public"], ["dwelling", "police_setting"]],
        lambda report, values: any(getattr(report, flag) for value in values for flag in LOCATION_GROUP_NAMES[value]),
    ),
    "body_worn_video": (["yes", "not_stated"], lambda r, v: r.body_worn_video == v),
    "extended_cycle": (["true", "false"], lambda report, value: extended(report) == (value == "true")),
    "ced_used": (["true", "false"], lambda report, value: report.ced_used == (value == "true")),
}


def cases(combination_size):
    """The params of every combination of `combination_size` filters, with each of the first's values."""
    for names in itertools.combinations(MEANINGS, combination_size):
        for values in MEANINGS[names[0]][0]:
            yield {names[0]: values} | {name: MEANINGS[name][0][-1] for name in names[1:]}


def expected_ids(reports, params):
    return {report.pk for report in reports if all(MEANINGS[name][1](report, value) for name, value in params.items())}


def filtered(params, queryset, distinct=False):
    """The reports the filter class gives; with `distinct`, as django-filter's default had it."""
    filters = ReportFilter(params, queryset=queryset)
    if distinct:
        for one in filters.filters.values():
            if isinstance(one, django_filters.MultipleChoiceFilter):
                one.distinct = True
    assert filters.is_valid(), filters.errors
    return filters.qs


def differences(reports, visible, params):
    """What is wrong with the reports a filter gives: "" when they are right, once each and without DISTINCT."""
    filtered_reports = filtered(params, visible)
    listed = list(filtered_reports.values_list("pk", flat=True))
    problems = []
    if len(listed) != len(set(listed)):
        problems.append("a report listed twice")
    if set(listed) != expected_ids(reports, params):
        problems.append(f"{sorted(set(listed) ^ expected_ids(reports, params))} wrongly in or out")
    if set(listed) != set(filtered(params, visible, distinct=True).values_list("pk", flat=True)):
        problems.append("not the reports DISTINCT gave")
    if not filtered_reports.query.is_empty() and "DISTINCT" in str(filtered_reports.query):  # empty: no SQL
        problems.append("DISTINCT")
    return f"{params}: {', '.join(problems)}" if problems else ""


# One test per size, looping: the 60 reports are made once for some 400 filter sets, not once each.
@pytest.mark.parametrize("combination_size", [1, 2])
def test_each_filter_alone_and_in_pairs_gives_the_reports_it_did_with_distinct_once_each(
    pcc_staff, many_reports, combination_size
):
    visible = reports_visible_to(pcc_staff)
    checked = [differences(many_reports, visible, params) for params in cases(combination_size)]
    assert len(checked) > {1: 30, 2: 250}[combination_size]
    assert [problem for problem in checked if problem] == []


def test_an_area_code_another_force_uses_too_lists_only_the_readers_own_reports(pcc_staff, many_reports):
    """Codes are unique within a force: the same code in the Met brings in none of its reports."""
    AreaFactory(force=Force.objects.get(pk="metropolitan"), name="Another Reading", code="E22000160")
    ReportFactory(area=Area.objects.get(code="E22000160", force="metropolitan"))
    assert differences(many_reports, reports_visible_to(pcc_staff), {"area": "E22000160"}) == ""
    assert not filtered({"area": "E22000999"}, reports_visible_to(pcc_staff)).exists()


def test_the_filters_find_something_and_leave_something_out(pcc_staff, many_reports):
    """The data above are varied enough for the comparisons to mean something."""
    for name, (values, _) in MEANINGS.items():
        for value in values:
            matched = expected_ids(many_reports, {name: value})
            assert 0 < len(matched) < len(many_reports), (name, value)


def test_no_filter_on_a_column_reaches_a_relation_that_could_repeat_a_report():
    """A filter over the CED uses (or any other to-many relation) asks EXISTS; only a filter method may."""
    for name, one in ReportFilter.base_filters.items():
        if one.method:
            continue
        model = UseOfForceReport
        for part in one.field_name.split("__"):
            field = model._meta.get_field(part)
            assert not (field.one_to_many or field.many_to_many), f"{name} joins {part}, which repeats reports"
            model = field.related_model or model


@pytest.mark.parametrize(
    "params",
    [
        {"ethnicity": ["black", "white"], "extended_cycle": "true"},
        {"age_band": ["18_34", "35_49"], "gender": ["male"]},
        {"highest_level": ["fired", "drawn"], "outcome": ["arrested", "other"], "location_group": ["public"]},
        {"subject_injury": ["minor", "none"], "officer_injury": ["none"], "health_condition": ["mental"]},
    ],
)
def test_the_api_lists_each_filtered_report_once_without_distinct(
    client, api_client_user, token_key, many_reports, params
):
    key = token_key(api_client_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(API, params | {"page_size": 1000}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200, response.content
    listed = [row["id"] for row in response.json()["results"]]
    assert len(listed) == len(set(listed))
    assert set(listed) == expected_ids(many_reports, params)
    assert not any("DISTINCT" in query["sql"] for query in queries.captured_queries)


def test_a_report_sampled_twice_is_listed_once_to_a_member_of_both_samples(client, panel_member, oxford):
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])
    other = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN])
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])  # never sampled
    first = CaseSampleFactory()
    PanelMemberFactory(user=panel_member, panel=first.panel)
    second = CaseSampleFactory(panel=first.panel, period_starts_on=datetime.date(2025, 7, 1))
    SampledCaseFactory(sample=first, report=report)
    SampledCaseFactory(sample=second, report=report)
    SampledCaseFactory(sample=second, report=other)

    visible = reports_visible_to(panel_member)
    assert sorted(visible.values_list("pk", flat=True)) == sorted([report.pk, other.pk])
    assert "DISTINCT" not in str(visible.query)
    client.force_login(panel_member)
    listed = [shown.pk for shown in client.get("/reports/").context["page"]]
    assert sorted(listed) == sorted([report.pk, other.pk])


# Each value index (incidents.models.VALUE_INDEXES) and every value in it, as a filter asks for each.
VALUE_FILTERS = {
    "ced_used": [{"ced_used": "true"}],
    "discharge": [{"discharge_group": "discharge"}],
    "age": [{"age_band": [age]} for age in ("under_11", "11_17", "50_64", "65_plus", "not_reported")],
    "gender": [{"gender": ["other"]}, {"gender": ["not_reported"]}],
    "ethnicity": [{"ethnicity": [value]} for value in ("mixed", "other", "not_reported")],
    "health": [{"health_condition": [value]} for value in ("physical", "physical_and_mental", "not_reported")],
    "subject_injury": [{"subject_injury": [value]} for value in ("severe", "death", "not_reported")],
    "officer_injury": [{"officer_injury": [value]} for value in ("severe", "minor", "not_reported")],
    "fatality": [{"outcome": ["fatality"]}],
    "made_off": [{"outcome": ["made_off"]}],
    "detained_mha": [{"outcome": ["detained_mha"]}],
    "hospitalised": [{"outcome": ["hospitalised"]}],
    "outcome_other": [{"outcome": ["other"]}],
    "remove_handcuffs": [{"reason": ["remove_handcuffs"]}],
    "method_of_entry": [{"reason": ["method_of_entry"]}],
    "secure_evidence": [{"reason": ["secure_evidence"]}],
    "effect_search": [{"reason": ["effect_search"]}],
    "reason_other": [{"reason": ["other"]}],
    "acute_behaviour": [{"impact_factor": ["acute_behavioural_disturbance"]}],
    "crowd": [{"impact_factor": ["crowd"]}],
    "weapon": [{"impact_factor": ["weapon"]}],
    "impact_other": [{"impact_factor": ["other"]}],
    "medical_setting": [{"location_group": ["medical_setting"]}],
    "location_other": [{"location_group": ["other"]}],
}
INDEXED_FILTERS = [(index, params) for index, asked in VALUE_FILTERS.items() for params in asked]


def test_every_value_index_has_its_values_asked_here():
    assert set(VALUE_FILTERS) == set(VALUE_INDEXES)


@pytest.mark.parametrize("group", MEANINGS["discharge_group"][0])
def test_a_level_and_a_discharge_group_together_give_the_levels_asked_of_that_group(pcc_staff, many_reports, group):
    visible = reports_visible_to(pcc_staff)
    matched = 0
    for levels in MEANINGS["highest_level"][0] + [["not_stated"], list(LEVELS_BY_NAME)]:
        params = {"highest_level": levels, "discharge_group": group}
        assert differences(many_reports, visible, params) == ""
        # One condition on the column, whose share of the reports the planner can estimate.
        query = filtered(params, visible).query
        assert query.is_empty() or str(query).split(" WHERE ")[1].count("highest_ced_level") == 1
        matched += len(expected_ids(many_reports, params))
    assert matched or group == "no_taser", "the data hold reports of the group's levels"


@pytest.mark.parametrize("index, params", INDEXED_FILTERS)
def test_a_value_with_an_index_alone_and_with_another_filter_gives_the_reports_it_names(
    pcc_staff, many_reports, index, params
):
    visible = reports_visible_to(pcc_staff)
    for more in ({}, {"from": "2025-06-01"}, {"ced_used": "true"}, {"reason": ticked_names("reasons", "reason_")[:1]}):
        assert differences(many_reports, visible, params | more) == ""
        assert expected_ids(many_reports, params | more), "the data hold reports of the value"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a plan of PostgreSQL's planner")
@pytest.mark.parametrize(
    "params, index",
    [(params, f"Index Scan Backward using report_{index}_date") for index, params in INDEXED_FILTERS]
    + [({"highest_level": ["fired"]}, "Index Scan Backward using report_force_level_date")]
    + [({"area": "E22000160", "highest_level": ["fired"]}, "Index Scan Backward using report_area_level_date")]
    + [({"extended_cycle": "true"}, "Index Only Scan Backward using ced_use_extended_report")],
)
def test_a_page_of_a_value_with_an_index_can_be_read_from_that_index(pcc_staff, many_reports, params, index):
    """The filter's SQL implies the index's condition, so the planner may read the page from it."""
    page = filtered(params, reports_visible_to(pcc_staff)).order_by("-occurred_on", "-id")[:51]
    with connection.cursor() as cursor:
        # 61 reports make a sequential scan cheapest; without it, the smallest index that fits is the value's.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # With so few reports another index that fits may cost the same (the levels' for a discharge, then a
        # sort of four rows): the reports' other indexes of no constraint go, in this test's transaction only.
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'incidents_useofforcereport'::regclass "
            "AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexrelid)"
        )
        for (other,) in cursor.fetchall():
            if other not in index:
                cursor.execute(f"DROP INDEX {other}")
        cursor.execute("ANALYZE incidents_useofforcereport")
        cursor.execute("ANALYZE incidents_ceduse")
    plan = page.explain()
    assert index in plan, plan
