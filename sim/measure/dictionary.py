"""The data dictionary: every metric of the yearly table, what it counts and where it comes from.

One entry per metric name; a name with a placeholder in braces stands for one metric per
regime, place pool, state, channel or budget line of the model (``{regime}_users``:
``nachtopvang_users``, ``opvang_24uurs_users``, ...). ``docs/metrics.md`` is written from this
table (``python scripts/write_metric_docs.py``) and a test checks that every metric a run
reports has an entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.components.homeless import STATES
from sim.measure.annual import regime_metric
from sim.model.root import Model


@dataclass(frozen=True)
class Entry:
    """One metric (or family of metrics)."""

    name: str
    unit: str
    kind: str  # flow (per year), stock (at year end), mean (of daily values), ratio
    counts: str  # what counts, and the groups it is given by
    source: str  # the source figure it matches, or "model" (no observed counterpart)
    dutch: str  # the term in the sources


METRICS: tuple[Entry, ...] = (
    # --- the headline: people ---------------------------------------------------------------
    Entry("people_sheltered", "persons/year", "flow",
          "Unique persons with at least one night in a shelter bed in the year, in total and per "
          "client group.", "model", "unieke personen in de opvang"),
    Entry("people_without_a_bed", "persons/year", "flow",
          "Unique persons with a decision for shelter who spend at least one night without a bed "
          "in the year, in any state: waiting for a bed (after the decision, after a cut took "
          "theirs, or back from nights away with no bed free), or after leaving without housing "
          "(gave up waiting, left a shelter) until they report again, are housed or "
          "[homeless].out_of_sight_days have passed (then the model stops following them: "
          "nights_after_leaving). In total and per client group. Not counted: referred or sent "
          "away at the BCT (no decision for shelter), and a night-shelter user's nights away "
          "between spells in a bed (part of using the night shelter: person_nights "
          "away_from_a_night_shelter). Each person once a year however many nights: fewer beds can "
          "lower it (fewer people cycle through a night shelter's beds and the line for them, and "
          "those who get none leave sight sooner), so read it with people_sheltered and "
          "nights_after_leaving.", "model", "dak- en thuislozen zonder bed"),
    Entry("nights_without_a_bed", "person-nights/year", "flow",
          "The nights of people_without_a_bed in the year, in total and by state (street, "
          "with_others, in_hotel, out_of_sight): the headline of a capacity change, with "
          "nights_after_leaving beside it.", "none: 'niet volledig in beeld' (000 l.1597)",
          "nachten zonder bed"),
    Entry("nights_after_leaving", "person-nights/year", "flow",
          "Nights of people with a decision for shelter after the model stopped following them "
          "(out_of_sight_days after they left without housing), until they report again: "
          "everyone who ever left and has not come back, so it grows over the years; compare it "
          "between scenarios (paired), not between years.",
          "model", "uit beeld, vertrokken"),
    Entry("share_of_registrants_sheltered", "share", "ratio",
          "Of the persons registering at the BCT in the year, the share who spend at least one "
          "night in a shelter bed that year, per group and in total.",
          "fact: 2015, 472 MO users and 173 registrants without MO (002 l.1835-1853)",
          "aandeel gemelde daklozen met opvang"),
    Entry("person_nights", "person-nights/year", "flow",
          "Every night of every person in the model from their first report (a pool's stock: "
          "from the start) to the end of the run, split by where they are: in_shelter_bed, "
          "without_a_bed, away_from_a_night_shelter, after_leaving, at_bct, in_a_place (also "
          "while waiting for another pool's place), waiting_for_a_place (at home, or after a "
          "cut took theirs), housed "
          "(after a channel, until a return), in_long_term_care (the Wlz), "
          "no_decision_for_shelter (referred or sent away at the BCT, until a return); total: "
          "their sum. A capacity change moves nights between the parts "
          "(scripts/bed_night_balance.py).", "model", "nachten naar verblijfplaats"),
    # --- the BCT --------------------------------------------------------------------------
    Entry("bct_registrations", "persons/year", "flow",
          "Unique persons reporting at the BCT in the year (first reports and returns), per "
          "group and in total; groups with their own entry (the vrouwenopvang) are not counted.",
          "bct_registrations 2019-2021 (000 l.1472-1500)", "unieke meldingen BCT"),
    Entry("bct_new_clients", "persons/year", "flow",
          "First reports at the BCT in the year (a client's first episode; returns are not "
          "new), per group, per municipality of origin and in total.",
          "bct_new_clients 2023 (001 l.2167-2175)", "nieuwe cliënten voor een traject"),
    Entry("bct_returns", "reports/year", "flow",
          "Reports at the BCT of clients who were there before.", "model", "terugkeer"),
    Entry("bct_decisions", "decisions/year", "flow",
          "BCT decisions per outcome (regional_mo, local_economic, referred, leaves, ...).",
          "model", "besluit BCT"),
    Entry("returning_regularly", "persons/year", "flow",
          "Unique persons reporting at the BCT in the year who have returned at least twice so "
          "far (their third or later report).", "model (monitoring from 2023, 000 l.1787-1848)",
          "regelmatig terugkeren naar de MO"),
    Entry("beschikkingen", "decisions/year", "flow",
          "Decisions for shelter issued: 'new' (a BCT decision for regional or local shelter) and "
          "'extended' (a group's decision that runs out while the client is still in shelter: "
          "economic homeless every 6 months, 003 l.102-108).", "model (monitoring)",
          "afgegeven beschikkingen"),
    Entry("trajectories_started", "persons/year", "flow",
          "Shelter stays begun by clients who get trajectory support (economic homeless from "
          "1 June 2019, 003 l.89).", "model (monitoring)", "trajectbegeleiding"),
    # --- shelter stays --------------------------------------------------------------------
    Entry("{regime}_users", "persons/year", "flow",
          "Unique persons with a night in the year in a bed of a facility counted under the "
          "regime (nachtopvang: Wilhelminastraat, Velserpoort's single adults also after 2021, "
          "the temporary night places).", "nachtopvang_users 2019-2021 (000 l.1502-1515)",
          "unieke gebruikers nachtopvang"),
    Entry("{regime}_nights", "nights/year", "flow",
          "Bed-nights in the year in the facilities counted under the regime.",
          "nachtopvang_nights 2019-2021 (000 l.1502-1515)", "geslapen nachten"),
    Entry("mean_stay_days", "days", "ratio",
          "Mean length of the shelter stays that end in the year. A stay is an unbroken run of "
          "nights in shelter beds: a move to another bed goes on with it; a night without a bed "
          "(a night-shelter user's nights elsewhere, a cut) ends it.", "model (monitoring)",
          "verblijfsduur"),
    Entry("stays_over_9_months", "stays/year", "flow",
          "Shelter stays longer than 270 days, counted in the year they end, by way out.",
          "model (monitoring)", "verblijven langer dan 9 maanden"),
    Entry("stays_passing_9_months", "stays/year", "flow",
          "Shelter stays that pass 270 days, in the year they pass it, by what the client then "
          "waits for: a place of a pool (bw), a home (the first channel with a waiting list open "
          "to them, e.g. pact), other_channel, or no_reason (still recovering).",
          "model (monitoring)", "redenen van verblijven langer dan 9 maanden"),
    Entry("share_of_stays_shorter_than_2022", "share", "ratio",
          "Share of the shelter stays ending in the year that are shorter than the median stay "
          "ending in 2022 (missing when 2022 is not simulated).", "model (monitoring)",
          "aandeel kortere verblijven dan in 2022"),
    Entry("shelter_placements", "placements/year", "flow",
          "Stays begun in the year: a client taking a shelter bed from outside one (a move to "
          "another bed is none).", "model", "plaatsingen"),
    Entry("mean_wait_for_bed_days", "days", "ratio",
          "Mean wait from a positive decision to a bed over the placements of the year (zero "
          "for those placed at once).", "model (monitoring: wachttijden)", "wachttijd"),
    Entry("share_of_days_full", "share", "mean",
          "Share of the days on which all places of the regime are taken.", "model",
          "vol"),
    Entry("share_of_facility_days_full", "share", "ratio",
          "Of the days each facility of the regime is open, the share on which it is full.",
          "fact: 'Alle voorzieningen zitten bijna altijd vol' (000 l.1548)", "bijna altijd vol"),
    Entry("mean_occupied", "places", "mean", "Mean number of occupied places of the regime.",
          "nachtopvang: nights / days (000 l.1502-1515)", "bezetting"),
    Entry("facility_share_of_days_full", "share", "ratio",
          "Of the days a facility is open in the year, the share on which it is full, per "
          "facility (its key in the model file).",
          "fact: 'Alle voorzieningen zitten bijna altijd vol' (000 l.1548, l.1684)",
          "bijna altijd vol"),
    Entry("mean_idle_places", "places", "mean",
          "Mean over the days of the year of the shelter places open but not taken (capacity "
          "minus occupancy at the start of the day), per regime and over all shelter facilities "
          "(total).", "fact: 'bijna altijd vol' (000 l.1548): few should be idle", "leegstand"),
    # --- without a bed or home -----------------------------------------------------------
    Entry("{state}_nights", "person-nights/year", "flow",
          "Nights in the year spent in the state, in total and per client group. street, "
          "with_others (bankslapers), in_hotel: waiting for a bed after a positive decision (or "
          "after a cut took theirs, or a night-shelter user's nights elsewhere), by the model's "
          "[homeless] rules; out_of_sight: after leaving without housing (also after being "
          "referred or sent away at the BCT), until a return to the BCT or out_of_sight_days "
          "(after a way out that after_exit_state names, that state instead).",
          "none: 'niet volledig in beeld' (000 l.1597)",
          "buitenslapers, bankslapers, hotel, uit beeld"),
    Entry("{state}_at_year_end", "persons", "stock",
          "Persons in the state at the end of the year, in total and per client group.",
          "none", "buitenslapers, bankslapers, hotel, uit beeld"),
    # --- place pools ---------------------------------------------------------------------
    Entry("bw_places", "places", "stock",
          "Places of each place pool at the end of the year, by the pool's label (the name of "
          "calibration/targets.csv: 'bw' here names the family of place pools, whatever the "
          "pool).",
          "bw_places 2022 (000 l.1623)", "plekken beschermd wonen / beschut wonen"),
    Entry("bw_occupancy", "persons", "mean",
          "Mean over the days of the year of the places held in each place pool (by "
          "occupants, also while they wait for another pool's place), by the pool's label (the "
          "name of calibration/targets.csv, for every pool).",
          "bw_occupancy 2021/2022 (004 l.211)", "gemiddeld per maand in beschermd wonen"),
    Entry("{pool}_waiting_list", "persons", "stock",
          "Persons on the pool's waiting list at the end of the year (in a shelter bed, at home "
          "or in another pool's place), in total and per municipality of origin.",
          "bw_waiting_list 2021/2022 (004 l.211)", "wachtlijst naar gemeente van herkomst"),
    Entry("mean_wait_{pool}_days", "days", "ratio",
          "Mean wait from joining the pool's waiting list to a place, over those placed in the "
          "year.", "model (monitoring)", "gemiddelde wachttijd tussen indicatie en zorg"),
    Entry("{pool}_indications", "persons/year", "flow",
          "Clients joining the pool's waiting list in the year.", "model (monitoring)",
          "aanvragen"),
    Entry("{pool}_clients", "persons", "stock", "Clients in a place of the pool at year end.",
          "wlz_ggz_clients 2022 (001 l.2139-2143)", "cliënten"),
    Entry("place_flows", "moves/year", "flow",
          "Moves out of a place pool, as '<from label>_to_<to>': to another pool, to ambulant "
          "support at home (a home through the channels), or to the Wlz; "
          "'<from>_to_<to>_with_the_place': moved with their place (the pool's wlz_transfer).",
          "model (monitoring)",
          "doorstroom BW naar beschut wonen en naar ambulante begeleiding"),
    # --- outflow -------------------------------------------------------------------------
    Entry("outflow", "persons/year", "flow",
          "Clients leaving the system, by way out (each channel, referred, leaves, gave_up, "
          "departed, wlz, wlz_transfer).",
          "model", "uitstroom"),
    Entry("{channel}_placements", "persons/year", "flow",
          "Clients housed by the channel in the year, per part (the Pact: per municipality of "
          "the home) and in total.",
          "pact_placements 2022-2023 (001 l.1386, 004 l.691); onder_de_pannen_placements "
          "2021-2023 (004 l.669)", "plaatsingen"),
    Entry("unused_homes", "homes/year", "flow",
          "Homes a quota channel released with nobody eligible waiting.", "model",
          "onbenutte woningen"),
    # --- the vrouwenopvang --------------------------------------------------------------
    Entry("vo_emergency_admissions", "persons/year", "flow",
          "Women starting a stay (the vrouwenopvang's own entry) whose municipality of origin is "
          "in the region.", "vo_emergency_admissions 2019-2021 (000 l.1714-1737)",
          "noodopnames afkomstig uit Kennemerland"),
    Entry("vo_completed_trajectories", "persons/year", "flow",
          "Women leaving a vrouwenopvang facility for a home, per facility group: 'total' the "
          "Haarlem site (the source's row b, which excludes the satellites), 'satellite' the "
          "satellite homes (row c).", "vo_completed_trajectories 2019-2021 (000 l.1714-1737)",
          "afgeronde trajecten"),
    # --- money -----------------------------------------------------------------------------
    Entry("cost_eur", "euro/year", "flow",
          "Spending per budget line: held places times their day rates, hotel nights, "
          "Housing First support, and the line's other_costs_eur.",
          "cost_eur 2021-2022 (000 l.1343-1444)", "lasten"),
    Entry("other_costs_eur", "euro/year", "flow",
          "Spending of the line the model does not simulate ([budgets.LINE.other_costs]: for MO "
          "the BCT, trajectbegeleiding, day activities and prices since 2021), per line that "
          "has it; not split by municipality.", "000 l.1343-1371", "overige lasten"),
    Entry("cost_eur_{line}", "euro/year", "flow",
          "The budget line's spending by municipality of origin of the clients (from 2026 the "
          "woonplaatsbeginsel makes it who pays for BW).", "model", "lasten per gemeente"),
    Entry("budget_gap_eur", "euro/year", "flow",
          "Spending minus the national budget of the line (a surplus is negative); the last "
          "known year's budget holds on; unknown before the first.", "000 l.1343-1444",
          "tekort op het rijksbudget"),
)


def expanded(model: Model) -> dict[str, Entry]:
    """Every metric name a run of ``model`` can report, with its entry."""
    names = {
        "regime": [regime_metric(r) for r in model.recovery.regime],
        "state": list(STATES),
        "pool": list(model.places),
        "channel": list(model.channels),
        "line": _budget_lines(model),
    }
    out = {}
    for entry in METRICS:
        placeholder = next((k for k in names if f"{{{k}}}" in entry.name), None)
        values = names[placeholder] if placeholder else [""]
        for value in values:
            out[entry.name.replace(f"{{{placeholder}}}", value) if placeholder else entry.name] = entry
    return out


def _budget_lines(model: Model) -> list[str]:
    lines = [f.budget for f in model.facilities.values()]
    lines += [p.budget for p in model.places.values() if p.budget]
    lines += list(model.homeless.budget.values())
    lines += [c.budget for c in model.channels.values() if c.support_cost_per_day > 0]
    return list(dict.fromkeys([*lines, *model.budgets]))


# How to quote each kind of figure (docs/metrics.md); the README's "Which figure to quote" holds.
QUOTING: tuple[tuple[str, str], ...] = (
    ("every figure", "Quote it over the calibration posterior (`opvang run --posterior ...` or an "
     "experiment with `posterior = ...`) as the median and the 2.5-97.5 % range over the "
     "replications: \"120 [80, 170] a year\". Not the mean: the figures are skewed."),
    ("flow", "A count in the year (persons, nights, placements, euro). Quote the yearly value, or "
     "the yearly mean over a span of years (`--years 2025-2030`) with its range; say which years."),
    ("stock", "A count on 31 December. Quote it as \"at the end of YEAR\"; a yearly mean of stocks "
     "is a mean of year-end counts, not of every day."),
    ("mean", "A mean over the days of the year (occupancy, places held). Quote it with its unit "
     "(places, persons on an average day)."),
    ("ratio", "A share or a mean over the events of the year (mean wait over the placements of the "
     "year). In a year with few events it is unsteady: check the range."),
    ("a difference", "Scenario minus baseline, replication by replication (the same clients and "
     "parameter draw): the median and the 2.5-97.5 % range of the paired differences. A range that "
     "holds 0 means the direction is not settled."),
    ("street, with_others, in_hotel, out_of_sight", "These follow the rules of `[homeless]` in the "
     "model file, not observations (nobody counts rough sleeping, 000 l.1597): compare them "
     "between scenarios, never quote them as counts of the region's homeless."),
    ("`relative` (opvang summary)", "The median paired difference divided by the baseline's median "
     "of the same figure: \"-12 % against as_now\". Missing where the baseline's median is 0."),
    ("`n_for_10pct` (opvang summary)", "The replications with which the 95 % interval of the mean "
     "difference would be ±10 % of its size, from the spread seen (the interval shrinks as one "
     "over the square root of the replications). Far above the replications run: the difference "
     "is small against the noise; quote its range, not its sign."),
)


def markdown() -> str:
    """The dictionary as the Markdown of ``docs/metrics.md``."""
    out = ["# Metrics of the yearly table", "",
           "Written by `python scripts/write_metric_docs.py` from `sim/measure/dictionary.py`; do not edit.",
           "A name with a placeholder stands for one metric per regime (`{regime}`: nachtopvang, "
           "opvang_24uurs, vrouwenopvang, ...), place pool (`{pool}`: bw, beschut, wlz_ggz), "
           "state without a bed (`{state}`: street, with_others, in_hotel, out_of_sight), channel "
           "(`{channel}`) or budget line (`{line}`) of the model. kind: flow (a count per "
           "year), stock (at the end of the year), mean (of daily values over the year), ratio.", "",
           "## How to quote", ""]
    out += [f"- **{kind}**: {advice}" for kind, advice in QUOTING] + [""]
    for entry in METRICS:
        out += [f"## `{entry.name}`", "",
                f"- unit: {entry.unit}; kind: {entry.kind}",
                f"- counts: {entry.counts}",
                f"- observed counterpart: {entry.source}",
                f"- Dutch: {entry.dutch}", ""]
    return "\n".join(out)
