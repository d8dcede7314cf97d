"""A Thames Valley panel with a member and a chair, a meeting today and a sampled discharge."""

import pytest
from django.utils import timezone

from incidents.models import CedLevel
from scrutiny.models import PanelMember
from tests.factories import CaseSampleFactory, MeetingFactory, PanelFactory, PanelMemberFactory, ReportFactory

RUBRIC = ["Camera activated before the Taser was drawn?", "Warning given?", "De-escalation attempted?"]


@pytest.fixture
def panel(thames_valley):
    return PanelFactory(force=thames_valley, name="Panel A", rubric=RUBRIC)


@pytest.fixture
def member(panel, panel_member):
    return PanelMemberFactory(user=panel_member, panel=panel)


@pytest.fixture
def chair(panel, panel_chair):
    return PanelMemberFactory(user=panel_chair, panel=panel, role=PanelMember.Role.CHAIR)


@pytest.fixture
def meeting(panel):
    return MeetingFactory(panel=panel, held_on=timezone.localdate())


@pytest.fixture
def sample(meeting):
    return CaseSampleFactory(panel=meeting.panel, meeting=meeting, seed=None)


@pytest.fixture
def case(sample, oxford, member, chair):
    """A fired Taser report sampled for the meeting; the panel has a member and a chair."""
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN, CedLevel.FIRED], officer_reference="TV-4471")
    return sample.cases.create(report=report)


def answers(value="yes", questions=RUBRIC):
    return {question: value for question in questions}
