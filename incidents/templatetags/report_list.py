from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()
SELECTED = mark_safe(" selected")  # noqa: S308 - a constant attribute


@register.simple_tag
def select_options(field):
    """The <option>s of a bound field's select, chosen as Django's widget chooses them.

    The widget's own rendering builds a dict and its attributes for each option; for the report list's
    90-odd options that was half the page's rendering (tests/incidents/test_report_list.py compares
    the form with as_div).
    """
    widget = field.field.widget
    value = widget.format_value(field.value())
    options, has_selected = [], False
    for option_value, label in widget.choices:
        option_value = "" if option_value is None else option_value
        selected = (not has_selected or widget.allow_multiple_selected) and str(option_value) in value
        has_selected |= selected
        options.append((str(option_value), SELECTED if selected else "", label))
    return format_html_join("", '<option value="{}"{}>{}</option>', options)


@register.simple_tag
def report_rows(reports):
    """The list's rows, as the template wrote them, in one pass: through the template, each row's link,
    date and level cost about 0.1 ms, most of the page's rendering."""
    return format_html_join(
        "\n",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("report-detail", args=[report.pk]),
                report.pk,
                date_format(report.occurred_on, "j M Y"),
                report.force.name,
                (report.area.name if report.area else "") or "—",
                report.get_highest_ced_level_display() or "No Taser use",
            )
            for report in reports
        ),
    )
