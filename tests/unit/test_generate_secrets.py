"""The `secrets` family: the generator's own account of a fact, and its scenes as the tracker reads them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simstage.cli import main
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


@pytest.mark.parametrize(("order", "characters", "statements"), [(4, 5, 2), (4, 4, 3), (3, 4, 4)])
def test_deep_orders_balance_too(order: int, characters: int, statements: int) -> None:
    # Order 4 (and order 3 with four characters) used to fall back on don't-know and
    # true-belief probes: --check said NO. Each scene now keeps the best of many stories.
    scenes = generate("secrets", 50, 1, order=order, characters=characters, statements=statements)
    table = balance_table("secrets", scenes)
    assert all(table.balanced().values()), table
    for row in table.rows:
        if row.position:  # fact probes: yes / no / don't know
            assert all(abs(share - 1 / 3) <= 0.05 for share in row.position), row
            assert abs(row.false_belief - 0.5) <= 0.05, row
    for scene in scenes[:10]:
        assert tracker_answers(scene_scenario(scene)).answers == [p.answer for p in scene.probes]


def test_one_statement_cannot_balance_order_3_and_check_says_so() -> None:
    # With one statement, whoever is thought to have heard the lie is thought to have heard it
    # with everyone else: no false belief at order 3 differs from the order below.
    scenes = generate("secrets", 30, 1, order=3, characters=5, statements=1)
    table = balance_table("secrets", scenes)
    deepest = next(row for row in table.rows if row.group == "3")
    assert deepest.false_belief == 0.0
    assert not table.balanced()["false/true belief"]


def test_the_account_forgets_its_answers_when_the_keeper_speaks_again() -> None:
    account = FactAccount(True, "Ada", ["Ada", "Ben", "Cy"])
    assert account.belief(("Ben",)) is None
    account.said(False, {"Ben"}, {"Ben"})
    assert account.belief(("Ben",)) is False
    assert account.belief(("Ada", "Ben")) is False
    account.said(True, {"Ben", "Cy"}, {"Ben", "Cy"})
    assert account.belief(("Ben",)) is True
    assert account.belief(("Cy", "Ben")) is True


def test_false_who_knows_probes_differ_from_the_order_below_so_that_shortcut_fails() -> None:
    # Before, most false who-knows probes at orders 3 and 4 named the same set as the order
    # below: answering the lower order scored 0.74 to 0.88 there.
    scenes = generate("secrets", 50, 1, order=4, characters=5)
    table = balance_table("secrets", scenes)
    for row in table.rows:
        if row.group.startswith("who knows"):
            assert row.lower <= 0.6 and row.reality <= 0.6, row
    probes = [p for s in scenes for p in s.probes if p.kind == "who_knows" and p.false_belief]
    assert probes and all(p.answer not in (p.lower, p.reality) for p in probes)


def test_settings_no_story_can_probe_fail_at_once_in_one_line() -> None:
    # Order 4 needs a statement heard with three others in its audience: a private one never is.
    result = CliRunner().invoke(
        main,
        ["generate", "secrets", "--n", "1", "--order", "4", "--characters", "4",
         "--statements", "1", "--private", "1", "--probes", "1", "--check"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "none of 200 stories drawn has 1 fact probe at every order up to 4" in result.output
    assert "Traceback" not in result.output
