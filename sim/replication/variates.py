"""Personal variates: each client's own random numbers, one row per episode.

The k-th arrival of a group gets row k of its group's draws in every scenario of an
experiment (common random numbers): uniforms come in order from the stream
``clients/<group>``, so asking for more rows only appends. The columns are named in
:mod:`sim.engine.client`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.components.durations import Duration, gamma
from sim.components.intake import Group, decision_table
from sim.engine.client import (
    ASSESS,
    BW_FLAG,
    DECISION,
    DEPART,
    INDICATION,
    N_BASE,
    ORIGIN,
    PATIENCE,
    SEGMENT,
    SEGMENTS,
    SKAEVE,
    WORK,
    pool_columns,
)
from sim.engine.streams import Streams, uniform_rows
from sim.model.root import Model


class Attributes(NamedTuple):
    """Who each client of a group is (one entry per client): segment index, BW indication,
    Skaeve Huse need, origin index."""

    segment: list[int]
    bw: list[bool]
    skaeve: list[bool]
    origin: list[int]


EPISODES = 4  # episodes per client drawn up front; later ones use an overflow stream
Row = memoryview  # a client's variates of one episode: doubles, indexed by the columns


class GroupDraws:
    """The personal variates of every client of one group, drawn up front.

    Uniforms come from the stream ``clients/<group>``; the recovery work (a gamma by default,
    or the group's ``recovery`` distribution) from ``clients/<group>/work``, and each place
    pool's stay and exit from streams of their own (``clients/<group>/stay/<pool>``,
    ``clients/<group>/exit/<pool>``), so that row k is the same whatever the number of
    clients, and a pool added to a model leaves the other draws as they were. Columns whose
    distribution is known at set-up are turned into natural units here, in numpy (times in
    days, the decision as an outcome index); the others stay uniforms and are transformed where
    the context is known.
    """

    def __init__(self, model: Model, streams: Streams, name: str, n: int,
                 group: Group | None) -> None:
        self.model = model
        self.group = group
        self.durations = [(WORK, "work", group.work() if group else gamma(1.0, 1.0))]
        columns = [uniform_rows(streams.get(f"clients/{name}"), n, (EPISODES, N_BASE))]
        for i, (pid, pool) in enumerate(model.places.items()):
            stay, _ = pool_columns(i)
            self.durations.append((stay, f"stay/{pid}", pool.stay_duration()))
            columns += [np.zeros((n, EPISODES, 1)),
                        uniform_rows(streams.get(f"clients/{name}/exit/{pid}"), n, (EPISODES, 1))]
        rows = np.concatenate(columns, axis=2)
        for col, label, duration in self.durations:
            rows[..., col] = duration.sample(streams.get(f"clients/{name}/{label}"), (n, EPISODES))
        self.means, self.decisions = self._units()
        self.attributes = self._attributes(rows[:, 0])
        self.origin = np.array(self.attributes.origin, dtype=np.intp)
        self._transform(rows, self.origin)
        self.rows = rows
        self._block = rows.reshape(-1).data  # a client's row: a view of a slice of it
        self._width = rows.shape[2]
        self.overflow = streams.get(f"clients/{name}/overflow")

    def _units(self) -> tuple[list[tuple[int, float]], np.ndarray | None]:
        """(column, mean) of the exponential columns, and the cumulative decision table (one
        row per municipality of origin; None without a group)."""
        indication = [p.indication_days for p in self.model.places.values()
                      if p.indication_days is not None]
        means = [(INDICATION, indication[0] if indication else np.inf)]
        g = self.group
        if g is None:
            return means, None
        means += [(ASSESS, g.assessment_days), (PATIENCE, g.patience_days),
                  (DEPART, 365.0 / g.departure_per_year if g.departure_per_year > 0 else np.inf)]
        return means, decision_table(g, list(self.model.origin))

    def _attributes(self, u: np.ndarray) -> Attributes:
        """Segment index, BW indication, Skaeve Huse need and origin index of each client."""
        g = self.group
        table = g.origin_table(self.model.origin) if g else self.model.origin
        origin_cum = np.cumsum(list(table.values()))
        origin = np.minimum(np.searchsorted(origin_cum, u[:, ORIGIN], side="right"),
                            len(origin_cum) - 1)
        if g is None:
            n = len(u)
            return Attributes([0] * n, [True] * n, [False] * n, origin.tolist())
        segment = np.where(u[:, SEGMENT] < g.family_share, SEGMENTS.index("family"),
                           np.where(u[:, SEGMENT] < g.family_share + g.youth_share,
                                    SEGMENTS.index("youth"), SEGMENTS.index("single_adult")))
        return Attributes(segment.tolist(), (u[:, BW_FLAG] < g.bw_indication_share).tolist(),
                          (u[:, SKAEVE] < g.skaeve_share).tolist(), origin.tolist())

    def _transform(self, rows: np.ndarray, origin: np.ndarray) -> None:
        """Uniforms to natural units for the columns known at set-up (in place); ``origin``:
        each row's municipality of origin (the decision may depend on it)."""
        if self.decisions is not None:
            cumulative = self.decisions[origin]  # (rows, outcomes)
            u = rows[:, :, DECISION]  # (rows, episodes)
            rows[:, :, DECISION] = np.minimum((u[..., None] >= cumulative[:, None, :]).sum(axis=-1),
                                              cumulative.shape[1] - 1)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge mean gives inf: never
            for col, mean in self.means:
                rows[..., col] = -mean * np.log1p(-rows[..., col])

    def _overflow_row(self, k: int) -> Row:
        """The variates of a later episode of the k-th client, drawn now (in the order asked
        for) and turned into natural units by :meth:`_transform`, as a row drawn up front."""
        row: np.ndarray = self.overflow.random((self.rows.shape[2],))
        for col, _, duration in self.durations:
            row[col] = duration.sample_one(self.overflow)
        self._transform(row.reshape(1, 1, -1), self.origin[k: k + 1])
        return row.data

    def part_way(self, column: int, clients: range, duration: Duration,
                 rng: np.random.Generator) -> None:
        """The first episode of ``clients`` (rows) is a stay already under way at the start:
        its ``column`` (a stay, or recovery work) is the rest of one
        (:meth:`Duration.residual`), drawn from ``rng``."""
        self.rows[clients.start:clients.stop, 0, column] = duration.residual(rng, len(clients))

    def drawn(self, episode: int) -> bool:
        """Whether the variates of ``episode`` are drawn up front (when they are asked for
        makes no difference)."""
        return episode < EPISODES

    def episode_row(self, k: int, episode: int) -> Row:
        """Variates of episode ``episode`` of the k-th client of this group."""
        if episode < EPISODES:
            start = (k * EPISODES + episode) * self._width
            return self._block[start: start + self._width]
        return self._overflow_row(k)

