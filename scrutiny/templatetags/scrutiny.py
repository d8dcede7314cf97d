from django import template

from scrutiny.models import ANSWERS

register = template.Library()


@register.filter
def answer(value):
    """A rubric answer in words ("unclear" → "Could not tell")."""
    return dict(ANSWERS).get(value, value or "Not answered")


@register.filter
def comment_on(review, question):
    """The member's comment on their answer to `question`, or ""."""
    return review.rubric_comments.get(question, "")
