"""The who-knows rule (`simstage.tom.knowing`), which the tracker and the generator's account share."""

from simstage.tom.knowing import thought_knowers

NAMES = ("Ada", "Ben", "Cy")


def test_a_mind_with_a_belief_counts_itself_and_those_it_thinks_agree():
    theirs = {"Ben": True, "Cy": False}.get
    assert thought_knowers(NAMES, "Ada", True, theirs) == ("Ada", "Ben")


def test_a_mind_without_a_belief_counts_everyone_it_thinks_has_one():
    theirs = {"Ben": True, "Cy": False}.get
    assert thought_knowers(NAMES, "Ada", None, theirs) == ("Ben", "Cy")


def test_nobody_is_thought_to_know_when_no_belief_is_held_or_thought():
    assert thought_knowers(NAMES, "Cy", None, lambda name: None) == ()


def test_the_order_is_the_order_of_names_and_the_mind_is_never_asked_about_itself():
    asked: list[str] = []

    def theirs(name: str) -> bool | None:
        asked.append(name)
        return False

    assert thought_knowers(("Cy", "Ben", "Ada"), "Ben", False, theirs) == ("Cy", "Ben", "Ada")
    assert asked == ["Cy", "Ada"]
