"""The demo's forces and the published proportions its data follow (see dashboards.demo)."""

from incidents.models import (
    AgeBand,
    CedLevel,
    Ethnicity,
    Gender,
    HealthCondition,
    OfficerInjury,
    SubjectInjury,
    YesNoNotStated,
)

# Share of reports, the areas used when the force has none yet, and the force's ethnic mix
# (White, Black, Asian, Mixed, Other) for demo population baselines.
DEMO_FORCES = {
    "metropolitan": (
        0.45,
        [
            "Westminster",
            "Lambeth",
            "Southwark",
            "Croydon",
            "Newham",
            "Hackney",
            "Tower Hamlets",
            "Camden",
            "Brent",
            "Ealing",
            "Haringey",
            "Lewisham",
            "Barnet",
            "Bromley",
        ],
        (0.54, 0.135, 0.207, 0.057, 0.061),
    ),
    "west-yorkshire": (
        0.20,
        ["Leeds", "Bradford", "Kirklees", "Wakefield", "Calderdale"],
        (0.77, 0.025, 0.165, 0.025, 0.015),
    ),
    "thames-valley": (
        0.20,
        [
            "Oxford",
            "Reading",
            "Milton Keynes",
            "Slough",
            "Aylesbury Vale",
            "Wycombe",
            "Cherwell",
            "West Berkshire",
            "Wokingham",
            "Bracknell Forest",
            "Windsor and Maidenhead",
            "South Oxfordshire",
        ],
        (0.82, 0.025, 0.095, 0.035, 0.025),
    ),
    "avon-and-somerset": (
        0.15,
        ["Bristol", "North Somerset", "South Gloucestershire", "Bath and North East Somerset", "Somerset"],
        (0.90, 0.025, 0.035, 0.025, 0.015),
    ),
}
GROUPS = (Ethnicity.WHITE, Ethnicity.BLACK, Ethnicity.ASIAN, Ethnicity.MIXED, Ethnicity.OTHER)
# Rate of use relative to White residents, for reports with and without Taser.
RATE_RATIO = {True: (1.0, 7.5, 1.3, 2.6, 2.0), False: (1.0, 4.5, 1.2, 2.2, 1.8)}
ETHNICITY_NOT_REPORTED = 0.07

TASER_INCIDENT_SHARE = 0.08
# Highest level of a Taser report, England and Wales 2019/20 (Home Office Table 13).
LEVEL_SHARES = {
    CedLevel.NOT_STATED: 1267,
    CedLevel.DRAWN: 7141,
    CedLevel.AIMED: 3110,
    CedLevel.RED_DOTTED: 16809,
    CedLevel.ARCED: 397,
    CedLevel.DRIVE_STUN: 41,
    CedLevel.FIRED: 3275,
    CedLevel.ANGLE_DRIVE_STUN: 18,
}
AGE_SHARES = {
    AgeBand.UNDER_11: 0.002,
    AgeBand.FROM_11_TO_17: 0.07,
    AgeBand.FROM_18_TO_34: 0.54,
    AgeBand.FROM_35_TO_49: 0.26,
    AgeBand.FROM_50_TO_64: 0.07,
    AgeBand.FROM_65: 0.01,
    AgeBand.NOT_REPORTED: 0.048,
}
GENDER_SHARES = {Gender.MALE: 0.85, Gender.FEMALE: 0.13, Gender.OTHER: 0.003, Gender.NOT_REPORTED: 0.017}
HEALTH_SHARES = {
    HealthCondition.NONE: 0.70,
    HealthCondition.MENTAL: 0.18,
    HealthCondition.PHYSICAL: 0.03,
    HealthCondition.PHYSICAL_AND_MENTAL: 0.02,
    HealthCondition.NOT_REPORTED: 0.07,
}
CONDUCT_SHARES = {None: 0.03, 1: 0.12, 2: 0.18, 3: 0.17, 4: 0.32, 5: 0.14, 6: 0.04}
OFFICER_INJURY_SHARES = {
    OfficerInjury.NONE: 0.86,
    OfficerInjury.MINOR: 0.10,
    OfficerInjury.SEVERE: 0.005,
    OfficerInjury.NOT_REPORTED: 0.035,
}
SUBJECT_INJURY_SHARES = {
    SubjectInjury.NONE: 0.80,
    SubjectInjury.MINOR: 0.14,
    SubjectInjury.SEVERE: 0.01,
    SubjectInjury.DEATH: 0.00002,
    SubjectInjury.NOT_REPORTED: 0.04998,
}
VIDEO_SHARES = {YesNoNotStated.YES: 0.82, YesNoNotStated.NO: 0.13, YesNoNotStated.NOT_STATED: 0.05}
MAIN_DUTY_SHARES = {"Response": 0.6, "Neighbourhood": 0.15, "Custody": 0.1, "Roads policing": 0.05, "Other": 0.1}
# Chance each option is ticked, (without Taser, with Taser).
OPTION_CHANCES = {
    "location_street": (0.45, 0.5),
    "location_open_ground": (0.06, 0.08),
    "location_retail": (0.05, 0.03),
    "location_licensed": (0.04, 0.03),
    "location_public_transport": (0.02, 0.02),
    "location_stadium": (0.005, 0.002),
    "location_vehicle_caged": (0.03, 0.01),
    "location_vehicle_uncaged": (0.02, 0.01),
    "location_police_station": (0.01, 0.005),
    "location_custody": (0.08, 0.01),
    "location_hospital": (0.03, 0.02),
    "location_mental_health_setting": (0.01, 0.01),
    "location_ambulance": (0.005, 0.002),
    "location_dwelling": (0.3, 0.36),
    "location_other": (0.03, 0.03),
    "impact_weapon": (0.08, 0.42),
    "impact_alcohol": (0.35, 0.38),
    "impact_drugs": (0.2, 0.25),
    "impact_mental_health": (0.15, 0.22),
    "impact_prior_knowledge": (0.3, 0.35),
    "impact_size_gender_build": (0.25, 0.3),
    "impact_acute_behavioural_disturbance": (0.02, 0.04),
    "impact_crowd": (0.05, 0.04),
    "impact_other": (0.05, 0.05),
    "reason_protect_self": (0.75, 0.9),
    "reason_protect_public": (0.5, 0.7),
    "reason_protect_subject": (0.25, 0.35),
    "reason_protect_other_officers": (0.4, 0.6),
    "reason_prevent_offence": (0.35, 0.45),
    "reason_secure_evidence": (0.05, 0.03),
    "reason_effect_search": (0.1, 0.05),
    "reason_effect_arrest": (0.6, 0.65),
    "reason_method_of_entry": (0.02, 0.02),
    "reason_remove_handcuffs": (0.02, 0.005),
    "reason_prevent_harm": (0.45, 0.6),
    "reason_prevent_escape": (0.2, 0.25),
    "reason_other": (0.05, 0.04),
    "outcome_made_off": (0.02, 0.03),
    "outcome_arrested": (0.75, 0.8),
    "outcome_hospitalised": (0.05, 0.07),
    "outcome_detained_mha": (0.04, 0.06),
    "outcome_fatality": (0.00001, 0.00005),
    "outcome_other": (0.1, 0.08),
}
# Options that describe the incident (shared by every report of it), not the officer.
INCIDENT_PREFIXES = ("location_", "impact_", "outcome_")
PROBE_ZONES = ['["F6", "F9"]', '["F5", "BC"]', '["BE", "BG"]', '["F7"]', '["F10", "F12"]']
