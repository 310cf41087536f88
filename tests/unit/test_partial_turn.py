"""Reading a turn while it streams: the `say` words as they grow, the action once it is whole."""

from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from simstage.cast.partial import PartialTurn, action_preview

ACTIONS = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"type": st.just("move"), "object": st.text(max_size=8), "to": st.text(max_size=8)}
    ),
    st.fixed_dictionaries(
        {"type": st.just("tell"), "to": st.just("Ben"), "text": st.text(max_size=20)}
    ),
)


def fed(*chunks: str) -> PartialTurn:
    turn = PartialTurn()
    for chunk in chunks:
        turn.feed(chunk)
    return turn


@given(
    say=st.text(max_size=60),
    action=ACTIONS,
    ascii_only=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_split_shows_a_growing_prefix_of_the_words_and_the_action_when_whole(
    say: str, action: dict | None, ascii_only: bool, cuts: list[int]
) -> None:
    raw = json.dumps({"say": say, "action": action}, ensure_ascii=ascii_only)
    bounds = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    turn = PartialTurn()
    shown = ""
    for start, end in pairwise(bounds):
        turn.feed(raw[start:end])
        assert say.startswith(turn.say) and turn.say.startswith(shown)
        shown = turn.say
        if end < len(raw) - 1 and action is not None:
            assert turn.action is None  # the object closes only at its last brace
    assert turn.say == say and turn.action == action and turn.is_json


def test_a_cut_escape_waits_for_the_rest() -> None:
    turn = fed('{"say": "one\\')
    assert turn.say == "one"
    assert turn.feed("n").say == "one\n"
    assert fed('{"say": "caf\\u00', "e9", '!"').say == "café!"
    assert fed('{"say": "\\"hi\\" \\\\ \\/"').say == '"hi" \\ /'
    emoji = fed('{"say": "x\\ud83d', "\\ude00", '"}')
    assert emoji.say == "x😀"
    assert fed('{"say": "\\ud83d" }').say == "\ufffd"  # a lone high surrogate


def test_only_the_top_level_say_is_streamed() -> None:
    turn = fed('{"action": {"type": "tell", "to": "Ben", "say": "no"}, "say": "yes"}')
    assert turn.say == "yes" and turn.action == {"type": "tell", "to": "Ben", "say": "no"}
    assert fed('{"says": "no", "say": "yes"').say == "yes"


def test_the_action_appears_when_parsed() -> None:
    turn = fed(
        '{"say": "The car keys are in the coat.", "action": {"type": "claim", "object": "keys"'
    )
    assert turn.say == "The car keys are in the coat." and turn.action is None
    turn.feed(', "container": "coat"}')
    assert turn.action == {"type": "claim", "object": "keys", "container": "coat"}
    assert action_preview(turn.action) == "claim: keys in the coat"
    assert fed('{"say": "", "action": nul').action is None


def test_a_reply_that_is_not_json_is_shown_as_it_is() -> None:
    turn = fed("  Well, ", "I never!")
    assert turn.say == "Well, I never!" and not turn.is_json
    assert fed("   ").say == "" and not fed("").is_json


def test_action_previews() -> None:
    assert (
        action_preview({"type": "move", "object": "ring", "to": "desk drawer"})
        == "move ring → desk drawer"
    )
    assert action_preview({"type": "exit", "to": "study"}) == "exit → study"
    assert action_preview({"type": "tell", "to": "Ben", "text": "psst"}) == "tell Ben: psst"
