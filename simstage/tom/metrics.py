"""ToM metrics of a run: the model's probe answers scored against the tracker's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simstage.events import ProbeAnswered, ProbeScore, TomMetrics


def _score(pairs: list[tuple[str, str]]) -> ProbeScore:
    agreed = sum(answer == expected for answer, expected in pairs)
    return ProbeScore(n=len(pairs), agreed=agreed, accuracy=agreed / len(pairs) if pairs else None)


def tom_metrics(events: Iterable[Any], turn: int) -> TomMetrics | None:
    """Score every probe of a run against the tracker.

    Probes the tracker could not answer (`tracker` is None) count only towards
    `reality`. Returns None when the run asked no probes.

    Args:
        events: the run's events.
        turn: the turn to stamp on the event.
    """
    probes = [event for event in events if isinstance(event, ProbeAnswered)]
    if not probes:
        return None
    answered = [p for p in probes if p.tracker is not None]
    by_order: dict[str, list[tuple[str, str]]] = {}
    by_style: dict[str, list[tuple[str, str]]] = {}
    for probe in answered:
        pair = (probe.answer, probe.tracker or "")
        by_order.setdefault(str(len(probe.through) + 1), []).append(pair)
        by_style.setdefault(probe.style, []).append(pair)
    return TomMetrics(
        turn=turn,
        overall=_score([(p.answer, p.tracker or "") for p in answered]),
        by_order={key: _score(value) for key, value in sorted(by_order.items())},
        by_style={key: _score(value) for key, value in sorted(by_style.items())},
        false_belief=_score([(p.answer, p.tracker or "") for p in answered if p.tracker != p.truth]),
        reality=_score([(p.answer, p.truth) for p in probes]),
    )
