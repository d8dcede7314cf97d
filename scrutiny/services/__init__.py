"""Writes of the panels' work. Each checks what the rules allow, then changes its rows at once.

Who may call what (role, force, panel) is checked by the views; the rules of the workflow
(terms, vetting, the order of a meeting, an action's life) are checked here, so no page can
skip them. A refusal is a ValidationError with a sentence the user can act on.

By feature: notifications, panels and members, sampling, meetings and reviews, findings and what
came of them.
"""

from scrutiny.services.findings import (
    NEXT_STATUSES,
    create_action,
    record_finding,
    respond_to_finding,
    set_published,
    update_action,
)
from scrutiny.services.meetings import (
    approve_minutes,
    declare_at_meeting,
    declare_interest,
    meeting_begun,
    open_case_at_meeting,
    record_attendance,
    record_case_view,
    reopen_case,
    save_minutes,
    save_review,
)
from scrutiny.services.notifications import day, notify, panel_reviewers, send_reminders
from scrutiny.services.panels import (
    add_member,
    add_new_member,
    check_term,
    clean_quorum,
    clean_rubric,
    clean_scale,
    create_panel,
    retire_member,
    schedule_meeting,
    update_member,
    update_panel,
)
from scrutiny.services.sampling import (
    Rule,
    active_chair,
    add_chair_case,
    add_clip,
    clean_parameters,
    draw_sample,
    record_officer_account,
    record_video_follow_up,
    record_viewing,
    rule_parameters,
    withdraw_sample,
)

__all__ = [
    "NEXT_STATUSES",
    "Rule",
    "active_chair",
    "add_chair_case",
    "add_clip",
    "add_member",
    "add_new_member",
    "approve_minutes",
    "check_term",
    "clean_parameters",
    "clean_quorum",
    "clean_rubric",
    "clean_scale",
    "create_action",
    "create_panel",
    "day",
    "declare_at_meeting",
    "declare_interest",
    "draw_sample",
    "meeting_begun",
    "notify",
    "open_case_at_meeting",
    "panel_reviewers",
    "record_attendance",
    "record_case_view",
    "record_finding",
    "record_officer_account",
    "record_video_follow_up",
    "record_viewing",
    "reopen_case",
    "respond_to_finding",
    "retire_member",
    "rule_parameters",
    "save_minutes",
    "save_review",
    "schedule_meeting",
    "send_reminders",
    "set_published",
    "update_action",
    "update_member",
    "update_panel",
    "withdraw_sample",
]
