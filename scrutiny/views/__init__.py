"""The panels' pages: members review their cases, the chair runs the meeting, PCC staff run the
panels and chase actions, the force answers findings, and the public reads the published summary.

Each page checks the role first (403 for a role it is not for), then finds its object among
those the user may see (404 for another force's or another panel's: their existence is not shown).

By area: members' cases and the meeting, the panels PCC staff run, findings with the force's
responses and actions, and the reports.
"""

from scrutiny.views.cases import (
    case_context,
    case_footage_page,
    case_meeting,
    case_review,
    index,
    meeting_detail,
    member_case,
    my_cases,
    sample_detail,
    start,
)
from scrutiny.views.checks import PANELS_ARE_RUN_BY, failed, is_member, is_pcc, own_force, refused, require
from scrutiny.views.findings import action_detail, action_list, finding_detail, responses
from scrutiny.views.panels import member_edit, panel_detail, panel_list
from scrutiny.views.reports import (
    check_year,
    force_annual,
    notifications,
    panel_annual,
    panel_quarterly,
    public_annual,
    public_force_annual,
    public_summary,
    report_panel,
)

__all__ = [
    "PANELS_ARE_RUN_BY",
    "action_detail",
    "action_list",
    "case_context",
    "case_footage_page",
    "case_meeting",
    "case_review",
    "check_year",
    "failed",
    "finding_detail",
    "force_annual",
    "index",
    "is_member",
    "is_pcc",
    "meeting_detail",
    "member_case",
    "member_edit",
    "my_cases",
    "notifications",
    "own_force",
    "panel_annual",
    "panel_detail",
    "panel_list",
    "panel_quarterly",
    "public_annual",
    "public_force_annual",
    "public_summary",
    "refused",
    "report_panel",
    "require",
    "responses",
    "sample_detail",
    "start",
]
