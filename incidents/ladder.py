"""The CED ladder: its levels, highest first, and the rule that counts a report once at its highest.

Apart from models.py so that what only names the levels (the charts, the vocabularies) needs no
model: the levels are plain choices.
"""

from django.db import models


class CedLevel(models.IntegerChoices):
    """The CED ladder. The number is the rank: a higher number is a higher level."""

    NOT_STATED = 0, "Not stated"
    DRAWN = 1, "Drawn"
    AIMED = 2, "Aimed"
    RED_DOTTED = 3, "Red-dotted"
    ARCED = 4, "Arced"
    DRIVE_STUN = 5, "Drive stun"
    FIRED = 6, "Fired"
    ANGLE_DRIVE_STUN = 7, "Angle drive stun"


DISCHARGE_LEVELS = (CedLevel.DRIVE_STUN, CedLevel.FIRED, CedLevel.ANGLE_DRIVE_STUN)
NON_DISCHARGE_LEVELS = (CedLevel.DRAWN, CedLevel.AIMED, CedLevel.RED_DOTTED, CedLevel.ARCED)

# Each ladder level and the flag column that records it, highest first.
LADDER = (
    (CedLevel.ANGLE_DRIVE_STUN, "ced_angle_drive_stun"),
    (CedLevel.FIRED, "ced_fired"),
    (CedLevel.DRIVE_STUN, "ced_drive_stun"),
    (CedLevel.ARCED, "ced_arced"),
    (CedLevel.RED_DOTTED, "ced_red_dotted"),
    (CedLevel.AIMED, "ced_aimed"),
    (CedLevel.DRAWN, "ced_drawn"),
)
LADDER_FLAGS = tuple(flag for _, flag in LADDER)


def highest_level(levels_used):
    """The ladder rule: a report that used several levels counts once, at its highest.

    With no level recorded the CED use still counts, as "not stated".
    """
    return max(levels_used, default=CedLevel.NOT_STATED)


def highest_level_of(flags):
    """The ladder rule applied to a mapping of ladder flag column → bool."""
    return highest_level(level for level, flag in LADDER if flags.get(flag))
