from django import template

from scrutiny.models import ANSWERS

register = template.Library()


@register.filter
def answer(value):
    """A rubric answer in words ("unclear" → "Could not tell")."""
    return dict(ANSWERS).get(value, value or "Not answered")
