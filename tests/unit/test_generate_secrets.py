"""The `secrets` family: the generator's own account of a fact, and its scenes as the tracker reads them."""

from __future__ import annotations

from simstage.generate import generate
from simstage.generate.check import balance_table, scene_scenario, tracker_answers
from simstage.generate.fact_account import FactAccount


def test_the_account_answers_a_watcher_a_distracted_witness_a_private_line_and_a_lie() -> None:
    # Kim knows the fact holds. Lou is distracted when Kim says so aloud (Kim, Lou, Max present);
    # Nia watches unseen from outside. Then Kim lies to Max alone.
    account = FactAccount(True, "Kim", ["Kim", "Lou", "Max", "Nia"])
    account.said(True, heard={"Kim", "Max", "Nia"}, audience={"Kim", "Lou", "Max"})
    account.said(False, heard={"Max"}, audience={"Max"})
    assert account.belief(("Kim",)) is True  # one's own statements never change one's own belief
    assert account.belief(("Lou",)) is None  # distracted: heard nothing
    assert account.belief(("Kim", "Lou")) is True  # ... but Kim thinks Lou heard it
    assert account.belief(("Nia",)) is True  # the watcher heard it
    assert account.belief(("Kim", "Nia")) is None  # ... and nobody knows
    assert account.belief(("Nia", "Kim")) is True  # the watcher thinks Kim believes what it said
    assert account.belief(("Max",)) is False  # Max believes the lie he heard last
    assert account.belief(("Lou", "Max")) is None  # Lou heard nothing, and was not told
    assert account.belief(("Max", "Kim")) is False  # Max thinks Kim believes what it told him
    assert account.belief(("Lou", "Kim", "Max")) is None
    assert account.knowers() == ("Kim", "Nia")
    # Kim thinks Lou heard the truth; Max believes the lie, the opposite of Kim's own: not a knower.
    assert account.thought_knowers(("Kim",)) == ("Kim", "Lou")
    assert account.thought_knowers(("Max",)) == ("Kim", "Max")  # Max: he and Kim (who told him)
    assert account.thought_knowers(("Lou",)) == ()


def test_the_tracker_reads_each_generated_probe_as_the_header_intends_and_the_set_is_balanced() -> (
    None
):
    scenes = generate("secrets", 60, 11, order=3, characters=5)
    kinds = set()
    for scene in scenes:
        found = tracker_answers(scene_scenario(scene))
        assert not found.rejected
        assert found.answers == [probe.answer for probe in scene.probes]
        kinds |= {probe.kind for probe in scene.probes}
        text = scene.text
        events = {
            line.split("type: ")[1].split(",")[0] for line in text.splitlines() if "type: " in line
        }
        assert "assert" in events
    assert kinds == {"fact", "who_knows"}
    # Every beat the family is made of appears in the set.
    every = "".join(scene.text for scene in scenes)
    for beat in (
        "type: peek",
        "type: stop_peek",
        "type: distract",
        "type: exit",
        "type: enter",
        "to: ",
        "holds: false",
    ):
        assert beat in every, beat
    table = balance_table("secrets", scenes[:50])
    assert all(table.balanced().values()), table
    groups = [row.group for row in table.rows]
    assert groups == ["1", "2", "3", "who knows 2", "who knows 3", "all"]
    for row in table.rows[:3]:
        assert len(row.position) == 3 and row.direct is None and row.named_last is None
        assert row.reality <= 0.3  # answering reality: the true beliefs only (about a sixth)


def test_check_says_which_controls_a_set_of_facts_has_no_use_for() -> None:
    from click.testing import CliRunner

    from simstage.cli import main

    result = CliRunner().invoke(
        main, ["generate", "secrets", "--n", "50", "--seed", "1", "--check"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "balanced within ±10%: answer position yes, named last n/a, false/true belief yes,"
        " direct/indirect n/a" in result.output
    )
    assert "the tracker's answers equal the intended ones on 250 of 250 probes" in result.output
