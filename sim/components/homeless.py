"""Where people without a shelter place or a home are: states assigned by model rules.

The slice of the model file this component owns: ``[homeless]``. The engine records where
clients are in the shelter system; nobody observes where they are outside it ("het aantal
thuisloze mensen, bankslapers en buitenslapers is niet volledig in beeld"). These rules put
everyone who is without a bed or home in exactly one state:

- without a bed while their shelter episode goes on: waiting for one after a positive
  decision or after a cut took theirs, and a night-shelter user's nights elsewhere between
  spells in a bed; by what opened the span (the decision outcome, ``cut``, ``away``):
  ``street`` (outside), ``with_others`` (on a friend's couch: bankslapers) or ``in_hotel``
  (the vrouwenopvang's overflow);
- ``out_of_sight``: after leaving without housing (the ways out in ``after_exit``), until
  they report at the BCT again or for ``out_of_sight_days`` at most (after that they count
  as gone: another region, housed by their own means, unknown). ``after_exit_state`` puts
  the same span after some ways out in another state.

The same rules hold for everyone without a bed: who waits for a bed of a room type they take
(people who avoid dormitories) waits as anyone else does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.engine.log import UIT
from sim.engine.spans import Intervals, member, next_event
from sim.input.checks import non_negative, positive
from sim.input.errors import InputError, did_you_mean

WAITING_STATES: tuple[str, ...] = ("street", "with_others", "in_hotel")
STATES: tuple[str, ...] = (*WAITING_STATES, "out_of_sight")


@dataclass(frozen=True)
class Homeless:
    """The rules that place people without a bed or home in a state."""

    waiting: dict[str, str] = field(default_factory=dict)  # what opened the wait -> state
    default_waiting: str = "street"
    after_exit: tuple[str, ...] = ("referred", "leaves", "gave_up", "departed", "cut")
    after_exit_state: dict[str, str] = field(default_factory=dict)  # way out -> state (absent: out_of_sight)
    out_of_sight_days: float = 365.0
    cost_per_night: dict[str, float] = field(default_factory=dict)  # state -> euro (a hotel)
    budget: dict[str, str] = field(default_factory=dict)  # state -> the budget line that pays


def validate_homeless(rules: Homeless, file: str) -> None:
    """The states named exist and the window is positive."""
    for reason, state in {**rules.waiting, "": rules.default_waiting}.items():
        if state not in WAITING_STATES:
            key = f"homeless.waiting.{reason}" if reason else "homeless.default_waiting"
            raise InputError(file, key, f"expected one of {', '.join(WAITING_STATES)}, got {state!r}"
                             f"{did_you_mean(state, WAITING_STATES)}")
    positive(rules.out_of_sight_days, file, "homeless.out_of_sight_days")
    for way_out, state in rules.after_exit_state.items():
        key = f"homeless.after_exit_state.{way_out}"
        if way_out not in rules.after_exit:
            raise InputError(file, key, "expected a way out of homeless.after_exit: "
                             f"{', '.join(rules.after_exit)}{did_you_mean(way_out, rules.after_exit)}")
        if state not in STATES:
            raise InputError(file, key, f"expected one of {', '.join(STATES)}, got {state!r}"
                             f"{did_you_mean(state, STATES)}")
    for table in ("cost_per_night", "budget"):
        for state, value in getattr(rules, table).items():
            if state not in STATES:
                raise InputError(file, f"homeless.{table}.{state}", f"unknown state; expected one "
                                 f"of {', '.join(STATES)}{did_you_mean(state, STATES)}")
            if table == "cost_per_night":
                non_negative(value, file, f"homeless.{table}.{state}")
    for state in rules.cost_per_night:
        if state not in rules.budget:
            raise InputError(file, f"homeless.budget.{state}", "missing: a cost needs a budget line")


def waiting_state(rules: Homeless, opened_by: np.ndarray, reasons: list[str]) -> np.ndarray:
    """The state of each wait for a bed (index into :data:`STATES`), from the reason code of
    the event that opened it."""
    return _state_by_reason(rules.waiting, rules.default_waiting, opened_by, reasons)


def exit_state(rules: Homeless, reason: np.ndarray, reasons: list[str]) -> np.ndarray:
    """The state after each way out (index into :data:`STATES`), from its reason code."""
    return _state_by_reason(rules.after_exit_state, "out_of_sight", reason, reasons)


def _state_by_reason(states: Mapping[str, str], default: str, codes: np.ndarray,
                     reasons: list[str]) -> np.ndarray:
    """Index into :data:`STATES` of each reason code, by ``states`` (else ``default``)."""
    by_code = np.array([STATES.index(states.get(r, default)) for r in reasons]
                       or [STATES.index(default)])
    return by_code[codes] if len(codes) else np.zeros(0, dtype=int)


def out_of_sight(events: Mapping[str, np.ndarray], rules: Homeless, reasons: list[str],
                 horizon: float, order: np.ndarray) -> Intervals:
    """Spans after leaving without housing (out of sight, unless ``after_exit_state`` says
    otherwise): from leaving to the next BCT report, at most
    ``out_of_sight_days`` (and the horizon). ``order``: the rows by client
    (:func:`sim.engine.spans.by_client`)."""
    client, time = events["client"], events["time"]
    left = member(events["reason"], [i for i, r in enumerate(reasons) if r in rules.after_exit])
    opens = np.flatnonzero((events["dst"] == UIT) & left)
    nxt = next_event(client, opens, order)  # after leaving, the next event is a return
    end = np.where(nxt >= 0, time[np.maximum(nxt, 0)], horizon)
    capped = np.minimum(end, time[opens] + rules.out_of_sight_days)
    closed_by = np.where(capped < end, -2, nxt)  # -2: the window ended it
    return Intervals(client[opens], time[opens], capped, events["facility"][opens], opens, closed_by)
