"""The national use-of-force form's vocabularies: each categorical field, every label publishers use for it.

One vocabulary per field maps the labels the Home Office tables (2017/18 on) and the Met's
record-level export have used — long and short forms, the labels of editions before 2019/20
(Chinese, now counted in Asian; Don't know, now Not reported; "disability", now health
condition) — and the product's own codes and labels to the product's categories. Both file
formats read their categorical columns through these; the data dictionary lists them.

Labels are compared normalised (`normal_labels`): case, spacing, dashes, brackets and
apostrophes aside, so `Black (or Black British)`, `black or black british` and
`BLACK  OR BLACK BRITISH` are one label, as are `11 - 17 years` and `11–17 years`.
"""

from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from incidents.models import AgeBand, Conduct, Ethnicity, Gender, HealthCondition, OfficerInjury, SubjectInjury

# Not stated, however a publisher says it.
NOT_STATED_LABELS = (
    "", "Not reported", "Not stated", "Not recorded", "Not known", "Unknown", "Don't know", "Dont know",
)  # fmt: skip


def normal_labels(texts):
    """Labels compared case-, spacing-, dash-, bracket- and apostrophe-blind (a pyarrow string array)."""
    texts = pc.utf8_lower(texts)
    texts = pc.replace_substring_regex(texts, "[\u2010-\u2015\u2212]", "-")  # dashes and minus signs
    texts = pc.replace_substring_regex(texts, "['\u2018\u2019()\\[\\]]", "")
    texts = pc.replace_substring(texts, "&", " and ")
    texts = pc.replace_substring_regex(texts, r"\s+", " ")
    texts = pc.replace_substring_regex(texts, r" ?([-/]) ?", r"\1")
    return pc.utf8_trim_whitespace(texts)


@dataclass(frozen=True)
class Vocabulary:
    """The labels of one categorical field and the category each means."""

    labels: dict  # label as published → the product's value
    not_stated: object  # what a value outside the vocabulary counts as
    counted_as: str  # … as the product shows it
    expected: str  # the labels a strict import asks for, in its message

    @cached_property
    def keys(self):
        return normal_labels(pa.array(list(self.labels), pa.string()))

    def lookup(self, values):
        """Each value's place among the labels (null where the vocabulary has no such label)."""
        return pc.index_in(normal_labels(values), self.keys)

    def values(self, value_type=None):
        return pa.array(list(self.labels.values()), value_type or pa.string())


def with_choices(labels, choices):
    """The labels, with the product's own codes and labels for its categories (what its CSV writes)."""
    own = {str(value): value for value, _ in choices} | {str(label): value for value, label in choices}
    return own | labels


def not_stated(value):
    return dict.fromkeys(NOT_STATED_LABELS, value)


def _ages():
    bands = {"0-10": "under_11", "11-17": "11_17", "18-34": "18_34", "35-49": "35_49", "50-64": "50_64"}
    labels = {}
    for band, code in bands.items():
        low, high = band.split("-")
        labels |= dict.fromkeys([band, f"{band} years", f"{low} to {high}", f"{low} to {high} years"], code)
    labels |= dict.fromkeys(["Under 11", "Under 11 years", "Aged under 11", "0-10 years"], "under_11")
    labels |= dict.fromkeys(
        ["65 and over", "65 and over years", "65 or over", "65+", "Over 65", "65 and older"], "65_plus"
    )
    return labels | not_stated("not_reported")


ETHNICITY = Vocabulary(
    with_choices(
        {
            "White": "white",
            **dict.fromkeys(["Black (or Black British)", "Black or Black British", "Black", "Black British"], "black"),
            **dict.fromkeys(["Asian (or Asian British)", "Asian or Asian British", "Asian", "Asian British"], "asian"),
            # Counted in Asian since 2019/20, as the Home Office does; the Met still records it.
            "Chinese": "asian",
            **dict.fromkeys(["Mixed", "Mixed ethnicity", "Mixed/multiple ethnic groups"], "mixed"),
            **dict.fromkeys(["Other", "Other ethnic group", "Any other ethnic group"], "other"),
            **not_stated("not_reported"),
        },
        Ethnicity.choices,
    ),
    "not_reported",
    "Not reported",
    "is not an ethnic group (expected White, Black, Asian, Mixed, Other, Chinese or Don't know)",
)
AGE = Vocabulary(
    with_choices(_ages(), AgeBand.choices),
    "not_reported",
    "Not reported",
    "is not an age band (expected 0-10, 11-17, 18-34, 35-49, 50-64 or 65 and over)",
)
GENDER = Vocabulary(
    with_choices({"Male": "male", "Female": "female", "Other": "other", **not_stated("not_reported")}, Gender.choices),
    "not_reported",
    "Not reported",
    "is not a gender (expected Male, Female or Other)",
)
# Called "disability" in editions before 2019/20.
HEALTH = Vocabulary(
    with_choices(
        {
            **dict.fromkeys(["Mental", "Mental disability", "Mental health condition"], "mental"),
            **dict.fromkeys(["Physical", "Physical disability", "Physical health condition"], "physical"),
            **dict.fromkeys(
                [
                    "Physical and mental",
                    "Both",
                    "Physical and mental disability",
                    "Physical and mental health condition",
                ],
                "physical_and_mental",
            ),  # fmt: skip
            **dict.fromkeys(["None", "No disability", "No health condition"], "none"),
            **not_stated("not_reported"),
        },
        HealthCondition.choices,
    ),
    "not_reported",
    "Not reported",
    "is not a health condition (expected Mental, Physical, Physical and mental or None)",
)
CONDUCT = Vocabulary(
    with_choices(
        {
            "Serious/aggravated resistance": Conduct.SERIOUS,
            "Verbal resistance": Conduct.VERBAL,
            "Verbal resistance and gestures": Conduct.VERBAL,
            **not_stated(None),
        },
        Conduct.choices,
    ),
    None,
    "not stated",
    "is not a conduct (expected e.g. Compliant, Active resistance)",
)
OFFICER_INJURY_LEVEL = Vocabulary(
    with_choices(
        {"Minor injury": "minor", "Severe injury": "severe", "No injury": "none", **not_stated("not_reported")},
        OfficerInjury.choices,
    ),
    "not_reported",
    "Not reported",
    "is not an injury level (expected minor or severe)",
)
SUBJECT_INJURY_LEVEL = Vocabulary(
    with_choices(
        {
            "Minor injury": "minor",
            "Severe injury": "severe",
            "No injury": "none",
            "Fatal": "death",
            "Fatality": "death",
            **not_stated("not_reported"),
        },
        SubjectInjury.choices,
    ),  # fmt: skip
    "not_reported",
    "Not reported",
    "is not an injury level (expected minor or severe or death)",
)
YES_NO_NOT_STATED = Vocabulary(
    {"Yes": "yes", "Y": "yes", "True": "yes", "No": "no", "N": "no", "False": "no", **not_stated("not_stated"),
     "not_stated": "not_stated"},
    "not_stated",
    "Not stated",
    "is not Yes or No",
)  # fmt: skip

# The report field each vocabulary reads (the canonical CSV's columns).
FIELDS = {
    "subject_ethnicity": ETHNICITY, "subject_age": AGE, "subject_gender": GENDER, "subject_health": HEALTH,
    "subject_conduct": CONDUCT, "officer_injury": OFFICER_INJURY_LEVEL, "subject_injury": SUBJECT_INJURY_LEVEL,
    "body_worn_video": YES_NO_NOT_STATED,
}  # fmt: skip

# A Yes/No column: yes, no, and blank for unticked or not stated.
YES = ("Yes", "Y", "True")
NO = ("No", "N", "False")

# The options of the form's multi-select groups (one Yes/No column each in the Met export), by
# report field: the Met's label first (its columns are "<group>: <label>"), then the Home
# Office tables' and other publishers' labels for the same option.
LOCATIONS = {
    "location_street": ("Street/Highway", "Street/ highway", "Street or highway"),
    "location_public_transport": ("Public Transport",),
    "location_retail": ("Retail Premises",),
    "location_open_ground": (
        "Open ground (e.g. park, car park, field)", "Open ground (e.g. park, car park, field etc.)", "Open ground",
    ),
    "location_licensed": ("Licensed Premises",),
    "location_stadium": ("Sports or Event Stadia", "Sports or event stadium"),
    "location_hospital": (
        "Hospital/A&E (non-mental-health setting)", "Hospital/ A&E (non mental health setting)", "Hospital/A&E",
    ),
    "location_mental_health_setting": ("Mental Health Setting",),
    "location_vehicle_caged": ("Police vehicle with prisoner handling cage", "Police vehicle with cage"),
    "location_vehicle_uncaged": ("Police vehicle without prisoner handling cage", "Police vehicle without cage"),
    "location_dwelling": ("Dwelling",),
    "location_police_station": ("Police station (excluding custody block)", "Police station"),
    "location_custody": ("Custody Block",),
    "location_ambulance": ("Ambulance",),
    "location_other": ("Other",),
}  # fmt: skip
IMPACT_FACTORS = {
    "impact_weapon": ("Possesion of a weapon", "Possession of a weapon"),  # sic, in the Met's export
    "impact_alcohol": ("Alcohol",),
    "impact_drugs": ("Drugs",),
    "impact_mental_health": ("Mental Health",),
    "impact_prior_knowledge": ("Prior Knowledge",),
    "impact_size_gender_build": ("Size/Gender/Build", "Size/gender/ build", "Size/ gender/ build"),
    "impact_acute_behavioural_disturbance": ("Acute Behavioural Disorder", "Acute behavioural disturbance"),
    "impact_crowd": ("Crowd",),
    "impact_other": ("Other",),
}  # fmt: skip
REASONS = {
    "reason_protect_self": ("Protect self",),
    "reason_protect_public": ("Protect Public",),
    "reason_protect_subject": ("Protect Subject", "Protect person involved"),
    "reason_protect_other_officers": ("Protect Other Officers",),
    "reason_prevent_offence": ("Prevent Offence",),
    "reason_secure_evidence": ("Secure Evidence",),
    "reason_effect_search": ("Effect Search",),
    "reason_effect_arrest": ("Effect Arrest",),
    "reason_method_of_entry": ("Method of Entry",),
    "reason_remove_handcuffs": ("Remove Handcuffs",),
    "reason_prevent_harm": ("Prevent Harm",),
    "reason_prevent_escape": ("Prevent Escape",),
    "reason_other": ("Other",),
}  # fmt: skip
OUTCOMES = {
    "outcome_made_off": ("Made off/escaped", "Made off / escaped"),
    "outcome_arrested": ("Arrested",),
    "outcome_hospitalised": ("Hospitalised",),
    "outcome_detained_mha": ("Detained - Mental Health Act", "Detained (Mental Health Act)", "Detained under MHA"),
    "outcome_fatality": ("Fatality",),
    "outcome_other": ("Other",),
}  # fmt: skip
