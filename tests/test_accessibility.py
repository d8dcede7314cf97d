"""The style sheet's text colours meet WCAG 2.2 AA contrast (4.5:1) on every background it paints."""

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "css" / "site.css").read_text()
VARIABLES = dict(re.findall(r"--([\w-]+): (#[0-9a-fA-F]{6})", CSS))


def resolved(value):
    """A CSS colour as #rrggbb, or None for what is not a plain colour (transparent, currentColor)."""
    value = value.strip().split()[0]
    value = VARIABLES[value[6:-1]] if value.startswith("var(") else value
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def luminance(colour):
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# Text is set on white and on the light backgrounds of the page (boxes, notices, flagged rows);
# the header's white text sits on its near-black band.
COLOURS = {resolved(v) for v in re.findall(r"(?<![-\w])color: ([^;}]+)", CSS)} - {None}
TEXT_COLOURS = {colour for colour in COLOURS if luminance(colour) < 0.5}  # white text belongs to the header
PAINTED = {resolved(v) for v in re.findall(r"background: ([^;}]+)", CSS)} - {None}
BACKGROUNDS = {"#ffffff"} | {colour for colour in PAINTED if luminance(colour) > 0.8}


@pytest.mark.parametrize("text", sorted(TEXT_COLOURS))
def test_text_colour_is_readable_on_every_light_background(text):
    worst = min(BACKGROUNDS, key=lambda background: contrast(text, background))
    assert contrast(text, worst) >= 4.5, f"{text} on {worst}: {contrast(text, worst):.2f}:1"


def test_the_header_text_is_readable_on_its_band():
    assert contrast("#ffffff", "#0b0c0c") >= 4.5
