"""Shares of a whole, said one way across the product.

`share` is a percentage (0 to 100), as the charts and pages show it; `fraction` is the same ratio
as a fraction (0 to 1), as the panels' reports keep it for their templates and CSV. Both are None,
not 0, when the whole is 0 or unknown: nothing to divide is not "none of it".
"""


def share(part: float | None, whole: float | None, digits: int = 1) -> float | None:
    """part as a percentage of whole, rounded; None (not 0) when whole is 0 or either is unknown."""
    if part is None or not whole:
        return None
    return round(100 * part / whole, digits)


def fraction(part: float | None, whole: float | None, digits: int = 4) -> float | None:
    """part as a fraction of whole (0.25, not 25), rounded; None (not 0) when whole is 0 or either is unknown."""
    if part is None or not whole:
        return None
    return round(part / whole, digits)


def is_whole_number(text: str) -> bool:
    """Whether text is written in the digits 0-9 only, as int() and an id lookup take it: str.isdigit alone also
    passes superscripts such as '²', which int() refuses."""
    return text.isascii() and text.isdigit()
