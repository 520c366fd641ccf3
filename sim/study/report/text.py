"""The words of a report, in Dutch and English: labels, number formats and the summary that
is written from the numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

LANGUAGES = ("en", "nl")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Report", "summary": "Summary", "headline": "Headline figures",
        "fan": "Over the years", "forest": "Paired differences against the baseline",
        "states": "Where the people without a bed are", "occupancy": "Occupancy against capacity",
        "budget": "Cost per budget line against the national budget",
        "calibration": "Calibration: observed against predicted",
        "sensitivity": "Which assumptions drive the answer", "quoting": "How to quote these figures",
        "figure": "figure", "scenario": "scenario", "baseline": "baseline",
        "median": "median", "range": "2.5-97.5 %", "difference": "paired difference",
        "relative": "relative", "year": "year", "month": "month", "value": "value",
        "missing": "not in these results", "places": "places", "occupied": "occupied (median)",
        "capacity": "capacity", "budget_line": "national budget", "cost": "spending (median)",
        "observed": "observed", "predicted": "predicted 95 % interval", "inside": "inside",
        "outside": "outside", "simulated_over_observed": "simulated ÷ observed",
        "nights_per_year": "nights a year", "factor": "factor", "rank": "rank",
        "no_daily": "These results have no daily table (an experiment with tables = [\"annual\", "
                    "\"daily\"] writes it), so occupancy by month is not shown.",
        "no_differences": "One scenario only: there are no differences to show.",
        "no_sensitivity": "No sensitivity analysis in this folder (opvang sensitivity RESULTS "
                          "writes sensitivity.csv for an experiment with a [sample]).",
        "no_calibration": "No posterior predictive check was found",
        "calibration_from": "Read from", "generated": "Written by opvang report from",
        "euro_m": "million euro",
    },
    "nl": {
        "title": "Rapport", "summary": "Samenvatting", "headline": "Kerncijfers",
        "fan": "Door de jaren heen", "forest": "Gepaarde verschillen met de basis",
        "states": "Waar de mensen zonder bed zijn", "occupancy": "Bezetting tegen capaciteit",
        "budget": "Lasten per begrotingslijn tegen het rijksbudget",
        "calibration": "Kalibratie: waargenomen tegen voorspeld",
        "sensitivity": "Welke aannames het antwoord bepalen", "quoting": "Hoe deze cijfers te citeren",
        "figure": "figuur", "scenario": "scenario", "baseline": "basis",
        "median": "mediaan", "range": "2,5-97,5 %", "difference": "gepaard verschil",
        "relative": "relatief", "year": "jaar", "month": "maand", "value": "waarde",
        "missing": "niet in deze resultaten", "places": "plekken", "occupied": "bezet (mediaan)",
        "capacity": "capaciteit", "budget_line": "rijksbudget", "cost": "lasten (mediaan)",
        "observed": "waargenomen", "predicted": "voorspeld 95 %-interval", "inside": "binnen",
        "outside": "buiten", "simulated_over_observed": "gesimuleerd ÷ waargenomen",
        "nights_per_year": "nachten per jaar", "factor": "factor", "rank": "rang",
        "no_daily": "Deze resultaten hebben geen dagtabel (een experiment met tables = [\"annual\", "
                    "\"daily\"] schrijft die), dus de bezetting per maand ontbreekt.",
        "no_differences": "Maar één scenario: er zijn geen verschillen te tonen.",
        "no_sensitivity": "Geen gevoeligheidsanalyse in deze map (opvang sensitivity RESULTS "
                          "schrijft sensitivity.csv voor een experiment met een [sample]).",
        "no_calibration": "Geen posterior predictive check gevonden",
        "calibration_from": "Gelezen uit", "generated": "Geschreven door opvang report uit",
        "euro_m": "miljoen euro",
    },
}

METRICS: dict[str, dict[str, str]] = {
    "en": {"people_without_a_bed": "people without a bed", "nights_without_a_bed": "nights without a bed",
           "people_sheltered": "people sheltered", "shelter_placements": "shelter placements",
           "nights_after_leaving": "nights after leaving", "cost_eur": "cost"},
    "nl": {"people_without_a_bed": "mensen zonder bed", "nights_without_a_bed": "nachten zonder bed",
           "people_sheltered": "mensen in de opvang", "shelter_placements": "plaatsingen in de opvang",
           "nights_after_leaving": "nachten na vertrek (uit beeld)", "cost_eur": "lasten"},
}
STATES: dict[str, dict[str, str]] = {
    "en": {"street": "street", "with_others": "with others", "in_hotel": "in a hotel",
           "out_of_sight": "out of sight"},
    "nl": {"street": "buiten", "with_others": "bij anderen", "in_hotel": "in een hotel",
           "out_of_sight": "uit beeld"},
}

QUOTING: dict[str, list[str]] = {
    "en": [
        "Quote a figure as its median with the 2.5-97.5 % range over the replications, e.g. "
        "\"120 [80, 170] a year\"; not the mean: nights without a bed, waits and long stays are skewed.",
        "Quote a scenario against the baseline as the paired difference (scenario minus baseline, "
        "replication by replication: the same clients and the same parameter draw), with its range; "
        "a range that includes 0 means the sign is not settled.",
        "Quote policy answers from runs over the calibration posterior (each replication draws one "
        "parameter set the data support); the fitted point alone understates the uncertainty.",
        "The street, with others, hotel and out-of-sight figures follow the rules of the model file, "
        "not observations (nobody counts rough sleeping): compare them between scenarios, do not "
        "quote them as counts of the region's homeless.",
    ],
    "nl": [
        "Citeer een cijfer als de mediaan met het bereik van 2,5-97,5 % over de replicaties, bijv. "
        "\"120 [80, 170] per jaar\"; niet het gemiddelde: nachten zonder bed, wachttijden en lange "
        "verblijven zijn scheef verdeeld.",
        "Citeer een scenario tegen de basis als het gepaarde verschil (scenario min basis, replicatie "
        "voor replicatie: dezelfde cliënten en dezelfde parametertrekking), met het bereik; een bereik "
        "dat 0 bevat betekent dat de richting niet vaststaat.",
        "Citeer beleidsantwoorden uit runs over de kalibratie-posterior (elke replicatie trekt een "
        "parameterset die de data toelaten); het gefitte punt alleen onderschat de onzekerheid.",
        "De cijfers voor buiten, bij anderen, hotel en uit beeld volgen de regels van het modelbestand, "
        "geen waarnemingen (niemand telt buitenslapers): vergelijk ze tussen scenario's, citeer ze niet "
        "als aantallen daklozen in de regio.",
    ],
}


def label(lang: str, key: str) -> str:
    """A label in the language."""
    return LABELS[lang][key]


def metric_name(lang: str, metric: str, group: str = "total") -> str:
    """A figure's name in the language: cost per budget line names the line."""
    name = METRICS[lang].get(metric, metric.replace("_", " "))
    if group and group != "total":
        return f"{name}: {group.replace('_', ' ')}"
    return name


def number(value: Any, lang: str, metric: str = "", digits: int | None = None) -> str:
    """A value as it is read: money in millions with two decimals, values of 10 and more
    whole, smaller ones with a decimal (``digits``: as given); Dutch with a decimal comma."""
    if pd.isna(value):
        return "n/a"
    x = float(value)
    if metric.startswith(("cost_eur", "budget_gap")):
        text = f"{x / 1e6:,.2f} M"
    else:
        text = f"{x:,.{digits_for(x) if digits is None else digits}f}"
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".").replace(" M", " mln")
    return text


def digits_for(*values: float) -> int:
    """Decimals to show a set of values with: none from 10 up, else one."""
    finite = [abs(v) for v in values if not pd.isna(v)]
    return 0 if finite and max(finite) >= 10 else 1


def signed(value: Any, lang: str, metric: str = "", digits: int | None = None) -> str:
    """A difference with its sign."""
    text = number(value, lang, metric, digits)
    return text if text.startswith(("-", "n/a")) else f"+{text}"


def quoted(row: pd.Series, lang: str, metric: str, difference: bool = False) -> str:
    """median [2.5 %, 97.5 %], as a figure is quoted."""
    show = signed if difference else number
    d = digits_for(float(row["median"]), float(row["p2.5"]), float(row["p97.5"]))
    return (f"{show(row['median'], lang, metric, d)} [{show(row['p2.5'], lang, metric, d)}, "
            f"{show(row['p97.5'], lang, metric, d)}]")
