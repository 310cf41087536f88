"""Events that share a base (a passage, a watch, an optimizer's candidate) log as they always did."""

from __future__ import annotations

import typing

import pytest

from simstage.events import Event, event_from_json, event_to_json
from simstage.events.run import CandidateEvent
from simstage.events.world import Passage, Watching

OLD_LINES = [
    '{"turn":3,"origin":"stage","witnesses":["Ann","Bob"],"type":"enter","who":"Ann",'
    '"to":"hall","frm":"garden","sees":{"key":"box"}}',
    '{"turn":3,"origin":"stage","witnesses":["Ann"],"type":"exit","who":"Ann",'
    '"to":"garden","frm":"hall"}',
    '{"turn":4,"origin":"timeline","witnesses":["Dee"],"type":"peek","who":"Dee",'
    '"into":"hall","sees":{}}',
    '{"turn":5,"origin":"stage","witnesses":["Dee"],"type":"stop_peek","who":"Dee","into":"hall"}',
    '{"turn":2,"type":"candidate","speaker":"Ann","index":1,"raw":"{}",'
    '"scores":{"warmth":0.5},"total":0.25}',
    '{"turn":2,"type":"candidate_chosen","speaker":"Ann","index":1,"total":0.25,"mean":0.125,'
    '"scores":{"warmth":0.5}}',
]
"""One line of each kind built on a shared base, as logs have always held it (keys in order)."""


@pytest.mark.parametrize(
    "line", OLD_LINES, ids=lambda line: line.split('"type":"')[1].split('"')[0]
)
def test_an_event_on_a_shared_base_logs_its_keys_in_the_old_order(line: str) -> None:
    event = event_from_json(line)
    assert isinstance(event, (Passage, Watching, CandidateEvent))
    assert event_to_json(event) == line


def test_the_shared_bases_are_no_events_of_the_log() -> None:
    (union, _) = typing.get_args(Event)
    kinds = set(typing.get_args(union))
    assert {Passage, Watching, CandidateEvent}.isdisjoint(kinds)
    assert all(
        any(issubclass(kind, base) for kind in kinds)
        for base in (Passage, Watching, CandidateEvent)
    )
