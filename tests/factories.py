import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from forces.models import Area, Edition, Force, PopulationBaseline, PublishedFigure
from incidents.models import CedUse, UseOfForceReport
from scrutiny.models import (
    Action,
    CaseSample,
    Finding,
    FootageClip,
    ForceResponse,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a-long-test-password")


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    force = factory.LazyFunction(lambda: Force.objects.get(pk="thames-valley"))
    code = factory.Sequence(lambda n: f"T{n:08d}")
    name = factory.Sequence(lambda n: f"Area {n}")


class PopulationBaselineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PopulationBaseline

    area = factory.SubFactory(AreaFactory)
    white, black, asian, mixed, other = 80_000, 5_000, 10_000, 3_000, 2_000
    total = 100_000


class EditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Edition
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Police use of force statistics, edition {n}")
    published_on = datetime.date(2020, 12, 17)
    published_on_source = Edition.DateSource.PUBLICATION


class PublishedFigureFactory(factory.django.DjangoModelFactory):
    """One published figure of a financial year: pass financial_year="2019/20"."""

    class Meta:
        model = PublishedFigure
        exclude = ["year_start"]

    class Params:
        # The periods around the first financial year of the national form that are not financial years.
        first_quarter_2017 = factory.Trait(
            financial_year="", period_kind=PublishedFigure.PeriodKind.QUARTER, unit=PublishedFigure.Unit.USES,
            period_start=datetime.date(2017, 1, 1), period_end=datetime.date(2017, 3, 31),
        )  # fmt: skip
        calendar_year_2016 = factory.Trait(
            financial_year="", period_kind=PublishedFigure.PeriodKind.CALENDAR_YEAR, unit=PublishedFigure.Unit.USES,
            period_start=datetime.date(2016, 1, 1), period_end=datetime.date(2016, 12, 31),
        )  # fmt: skip

    edition = factory.SubFactory(EditionFactory)
    force = factory.LazyFunction(lambda: Force.objects.get(pk="thames-valley"))
    geography = factory.LazyAttribute(
        lambda figure: figure.force.home_office_name if figure.force else "Total England and Wales"
    )
    financial_year = "2019/20"
    year_start = factory.LazyAttribute(lambda figure: int(figure.financial_year[:4] or 2019))
    period_start = factory.LazyAttribute(lambda figure: datetime.date(figure.year_start, 4, 1))
    period_end = factory.LazyAttribute(lambda figure: datetime.date(figure.year_start + 1, 3, 31))
    period_kind = PublishedFigure.PeriodKind.FINANCIAL_YEAR
    measure = PublishedFigure.Measure.CED_TOTAL
    value = 100


class ReportFactory(factory.django.DjangoModelFactory):
    """A report without Taser use; pass ced_levels=[CedLevel.…] for one with."""

    class Meta:
        model = UseOfForceReport

    force = factory.LazyAttribute(
        lambda report: report.area.force if report.area else Force.objects.get(pk="thames-valley")
    )
    area = factory.SubFactory(AreaFactory)
    occurred_on = datetime.date(2025, 6, 15)

    @classmethod
    def _create(cls, model_class, *args, ced_levels=None, **kwargs):
        report = model_class(*args, **kwargs)
        if ced_levels is not None:
            report.set_ced_levels(ced_levels)
        report.save()
        return report


class CedUseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CedUse

    report = factory.SubFactory(ReportFactory)
    device_number = 1


class PanelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Panel

    force = factory.LazyFunction(lambda: Force.objects.get(pk="thames-valley"))
    name = factory.Sequence(lambda n: f"Panel {n}")


class PanelMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PanelMember

    user = factory.SubFactory(UserFactory)
    panel = factory.SubFactory(PanelFactory)
    term_starts_on = datetime.date(2025, 1, 1)
    # Vetted and trained a month ago: a member who may review today.
    vetted_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    trained_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    panel = factory.SubFactory(PanelFactory)
    held_on = datetime.date(2025, 9, 1)


class CaseSampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseSample

    panel = factory.SubFactory(PanelFactory)
    rule = CaseSample.Rule.ALL_DISCHARGES
    period_starts_on = datetime.date(2025, 4, 1)
    period_ends_on = datetime.date(2025, 6, 30)


class SampledCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SampledCase

    sample = factory.SubFactory(CaseSampleFactory)
    report = factory.SubFactory(ReportFactory)


class FootageClipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FootageClip

    sampled_case = factory.SubFactory(SampledCaseFactory)
    system = "DEMS"
    clip_id = factory.Sequence(lambda n: f"BWV-{n:05d}")
    starts_at = factory.LazyFunction(lambda: timezone.make_aware(datetime.datetime(2025, 6, 15, 22, 4)))
    ends_at = factory.LazyAttribute(lambda clip: clip.starts_at + datetime.timedelta(minutes=6))
    added_by = factory.SubFactory(UserFactory)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    sampled_case = factory.SubFactory(SampledCaseFactory)
    member = factory.SubFactory(PanelMemberFactory)
    grade = "Green"
    status = Review.Status.DRAFT
    submitted_at = factory.LazyAttribute(lambda review: timezone.now() if review.status == "submitted" else None)


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    sampled_case = factory.SubFactory(SampledCaseFactory)
    panel_grade = "Amber"
    summary = "Warning given late; de-escalation partly attempted."
    themes = factory.LazyFunction(lambda: ["communication"])
    for_force_feedback = True


class ForceResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForceResponse

    finding = factory.SubFactory(FindingFactory)
    responded_by = factory.SubFactory(UserFactory)
    response = "Briefing issued to response teams."


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    finding = factory.SubFactory(FindingFactory)
    description = "Refresh the briefing on warnings before drawing."
    owner = "Head of Taser training"
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
