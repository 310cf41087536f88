"""The report's belief graph in headless Chromium: no label overlaps another or a node, in every view
(every object's and every fact's)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simstage.report.belief_view import belief_data, sampled_turns
from tests.conftest import ROOT
from tests.unit.test_report import CHROMIUM, chromium, report, write_run
from tests.unit.test_report import belief_data as report_data

FOUR = ROOT / "tests" / "data" / "four-order3.yaml"
FACTS = ROOT / "tests" / "data" / "four-facts-order3.yaml"
DINNER = ROOT / "scenarios" / "dinner-party.yaml"

# Walks every object (and fact), holder and order the controls offer, draws each view at the
# shown turn, and measures every text label against every other label and every node other
# than its own (a label sits inside its node's box) with getBoundingClientRect. It also reads
# what a fact view says of who knows: the side table's rows, and the cast boxes marked.
MEASURE = """<script>
(function(){
  function overlap(a,b){return a.left<b.right-0.5&&b.left<a.right-0.5&&a.top<b.bottom-0.5&&b.top<a.bottom-0.5;}
  var pick={object:document.getElementById('object'),holder:document.getElementById('holder'),order:document.getElementById('order')};
  var views=[], opts=function(s){return [].slice.call(s.options).map(function(o){return o.value;});};
  opts(pick.object).forEach(function(o){opts(pick.holder).forEach(function(h){opts(pick.order).forEach(function(k){
    pick.object.value=o; pick.holder.value=h; pick.order.value=k;
    pick.order.dispatchEvent(new Event('change'));
    var labels=[].slice.call(document.querySelectorAll('#beliefs text'));
    var shapes=[].slice.call(document.querySelectorAll('#beliefs .node .shape'));
    var boxes=labels.map(function(t){return t.getBoundingClientRect();});
    var bad=[];
    for(var i=0;i<labels.length;i++){
      for(var j=i+1;j<labels.length;j++) if(overlap(boxes[i],boxes[j])) bad.push(labels[i].textContent+' / '+labels[j].textContent);
      shapes.forEach(function(s){
        if(s.parentNode!==labels[i].parentNode&&overlap(boxes[i],s.getBoundingClientRect())) bad.push(labels[i].textContent+' on a node');
      });
      var inside=labels[i].parentNode.classList.contains('node')?labels[i].parentNode.querySelector('.shape'):null;
      if(inside){var r=inside.getBoundingClientRect(); if(boxes[i].left<r.left||boxes[i].right>r.right) bad.push(labels[i].textContent+' wider than its node');}
    }
    var text=function(q){return [].slice.call(document.querySelectorAll(q)).map(function(e){return e.textContent;});};
    var who=[].slice.call(document.querySelectorAll('#whoknows tr')).map(function(r){
      return [].slice.call(r.children).map(function(c){return c.textContent;});});
    views.push({object:o,holder:h,order:+k,labels:labels.length,nodes:shapes.length,
      edges:document.querySelectorAll('#beliefs g.belief').length,bad:bad,who:who,
      thought:text('#beliefs .who.thought text'),really:text('#beliefs .who.real text')});
  });});});
  var out=document.createElement('pre'); out.id='measured'; out.textContent=JSON.stringify(views);
  document.body.appendChild(out);
})();
</script></body>"""


def measured(page: Path, profile: Path) -> list[dict]:
    """Open the measuring page at the last turn in Chromium; what the script found, view by view."""
    dom = chromium(["--dump-dom", f"{page.as_uri()}#turn=8"], profile)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout.decode("utf-8")
    assert 'data-shown-turn="8"' in text
    found = re.search(r'<pre id="measured">(.*?)</pre>', text, re.DOTALL)
    assert found is not None
    return json.loads(found.group(1).replace("&amp;", "&"))


def scene_report(folder: Path, scene: Path) -> Path:
    run = folder / "run.jsonl"
    write_run(scene, run)
    out = folder / "report.html"
    assert report(run, out).exit_code == 0
    return out


@pytest.fixture(scope="module")
def four_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene_report(tmp_path_factory.mktemp("four"), FOUR)


@pytest.fixture(scope="module")
def facts_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene_report(tmp_path_factory.mktemp("facts"), FACTS)


@pytest.fixture(scope="module")
def dinner_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene_report(tmp_path_factory.mktemp("dinner"), DINNER)


def test_views_cover_every_holder_and_order(four_report: Path) -> None:
    html = four_report.read_text(encoding="utf-8")
    data = report_data(html)
    assert data["order"] == 3 and data["cast"] == ["Priya", "Reed", "Cole", "Mara"]
    assert sorted(data["views"]) == sorted(
        f"{h}|{k}" for h in ["", *data["cast"]] for k in (1, 2, 3)
    )
    assert len(data["views"]["|3"]["minds"]) == 4 + 12 + 36 and len(data["rows"]) == 52
    assert sampled_turns(500)[-1] == 500 and len(sampled_turns(500)) == 200


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_no_label_overlaps_in_any_view_in_chromium(four_report: Path, tmp_path: Path) -> None:
    page = tmp_path / "measure.html"
    page.write_text(
        four_report.read_text(encoding="utf-8").replace("</body>", MEASURE), encoding="utf-8"
    )
    views = measured(page, tmp_path / "profile")
    assert len(views) == 2 * 5 * 3  # objects x (everyone + 4 holders) x orders 1..3
    for view in views:
        assert view["bad"] == [], view
    default = next(v for v in views if v["object"] == "0" and v["holder"] == "" and v["order"] == 1)
    # Default view: 4 characters, 5 containers and 3 rooms labelled; one arrow per character.
    assert (default["labels"], default["nodes"], default["edges"]) == (12, 9, 4)
    deepest = next(v for v in views if v["holder"] == "" and v["order"] == 3)
    assert deepest["labels"] == 52 + 5 + 3 and deepest["edges"] == 36
    print("views", len(views), "labels", sum(v["labels"] for v in views), "overlaps 0")
    # The measure can fail: with labels three times larger, it finds overlaps.
    big = page.read_text(encoding="utf-8").replace(
        "</style>", "#beliefs text{font-size:36px}</style>", 1
    )
    page.write_text(big, encoding="utf-8")
    assert all(view["bad"] for view in measured(page, tmp_path / "profile-big"))


def test_belief_data_marks_the_lie_and_the_probe(four_report: Path) -> None:
    from simstage.scenario import load_scenario

    loaded = load_scenario(FOUR)
    events = write_run(FOUR, four_report.parent / "again.jsonl")
    data = belief_data(loaded.scenario, events, [6, 8])
    cole = next(i for i, r in enumerate(data["rows"]) if r[0] == "Cole" and not r[1])
    papers = data["objects"].index("papers")
    cell = data["cells"][0][papers][cole * 6 : cole * 6 + 6]
    names = [c[0] for c in data["containers"]]
    assert names[cell[0]] == "bookcase" and data["cast"][cell[3]] == "Reed" and cell[5] == 1
    assert data["reality"][0][papers] == names.index("safe")


def test_report_of_a_40_turn_order_3_scene_is_small(tmp_path: Path) -> None:
    from simstage.engine import Simulation
    from simstage.report import render_page
    from simstage.scenario import load_scenario
    from simstage.stage.scripted import ScriptedStage

    scenario = load_scenario(FOUR).scenario.model_copy(update={"max_turns": 40})
    sim = Simulation(scenario, ScriptedStage())
    sim.run()
    html = render_page(scenario, sim.events)
    assert len(belief_data(scenario, sim.events, list(range(41)))["turns"]) == 41
    assert len(html.encode("utf-8")) < 2_000_000, len(html)
    assert not re.search(r"""(src|href)\\s*=\\s*["']?(https?:|//)""", html) and "fetch(" not in html


def fact_views(report_page: Path, scene: Path, tmp_path: Path) -> list[dict]:
    """Every view of a report measured in Chromium: none has an overlap; in each fact view, who really
    knows, who the viewed holder thinks knows (the ✓ boxes) and every line of the who-knows table are
    the tracker's at the shown turn. Returns the fact views."""
    from simstage.run.log import read_runlog
    from simstage.scenario import load_scenario
    from simstage.tom.timeline import BeliefTimeline

    page = tmp_path / "measure.html"
    page.write_text(
        report_page.read_text(encoding="utf-8").replace("</body>", MEASURE), encoding="utf-8"
    )
    views = measured(page, tmp_path / "profile")
    scenario = load_scenario(scene).scenario
    world = scenario.world
    assert len(views) == (len(world.objects) + len(world.facts)) * (1 + len(scenario.cast)) * 3
    for view in views:
        assert view["bad"] == [], view
    facts = [v for v in views if v["object"].startswith("f")]
    assert len(facts) == len(world.facts) * (1 + len(scenario.cast)) * 3
    assert all(not v["who"] for v in views if not v["object"].startswith("f"))
    state = (
        BeliefTimeline(scenario).extend(read_runlog(report_page.parent / "run.jsonl").events).at(8)
    )
    cast = list(scenario.cast_names)
    for view in facts:
        fact = list(world.facts)[int(view["object"][1:])]
        really = state.who_knows(fact)
        assert [label.removeprefix("✓ ") for label in view["really"]] == list(really)
        holder = view["holder"]
        assert view["thought"] == (
            [f"✓ {n}" for n in state.who_knows(fact, holder)] if holder else []
        )
        head, *lines = view["who"]
        assert head[:-1] == ["who thinks", *cast] and lines[0][0] == "really knows"
        assert [n for n, mark in zip(cast, lines[0][1:-1], strict=True) if mark == "✓"] == list(
            really
        )
        for line in lines[1:]:
            names = line[0].removesuffix(" thinks").split(" › ")
            said = [n for n, mark in zip(cast, line[1:-1], strict=True) if mark == "✓"]
            assert said == list(state.who_knows(fact, names[0], names[1:])), line
        # The rows are the view's minds the page holds one order deeper than (it holds order 3: the
        # holders and their models of the others), one holder's or everyone's.
        others = len(cast) - 1
        assert len(lines) - 1 == (1 if view["order"] == 1 else 1 + others) * (
            1 if holder else len(cast)
        )
    print("fact views", len(facts), "labels", sum(v["labels"] for v in facts), "overlaps 0")
    # The measure can fail in a fact view too: with labels three times larger, it finds overlaps.
    big = page.read_text(encoding="utf-8").replace(
        "</style>", "#beliefs text{font-size:36px}</style>", 1
    )
    page.write_text(big, encoding="utf-8")
    assert all(
        view["bad"]
        for view in measured(page, tmp_path / "profile-big")
        if view["object"].startswith("f")
    )
    return facts


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_no_label_overlaps_in_any_fact_view_and_who_knows_is_the_trackers(
    facts_report: Path, tmp_path: Path
) -> None:
    facts = fact_views(facts_report, FACTS, tmp_path)
    # Everyone at order 3: 52 minds, 3 answers, 4 cast boxes, 2 headings; every deepest mind has an
    # arrow (to "don't know" where it has no belief).
    deepest = next(
        v for v in facts if v["object"] == "f0" and v["holder"] == "" and v["order"] == 3
    )
    assert (deepest["labels"], deepest["nodes"], deepest["edges"]) == (
        52 + 3 + 4 + 2,
        52 + 3 + 4,
        36,
    )
    asked = next(
        v for v in facts if v["object"] == "f0" and v["holder"] == "Reed" and v["order"] == 1
    )
    assert asked["who"][2][0] == "Reed thinks" and asked["who"][2][-1].startswith(
        "Priya, Reed, Cole, Mara"
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_no_label_overlaps_in_any_fact_view_of_the_dinner_party(
    dinner_report: Path, tmp_path: Path
) -> None:
    data = report_data(dinner_report.read_text(encoding="utf-8"))
    assert (
        data["order"] == 3
        and len(data["cast"]) == 4
        and data["facts"] == ["debt", "pawned", "fake", "threat"]
    )
    facts = fact_views(dinner_report, DINNER, tmp_path)
    assert len(facts) == 4 * 5 * 3
    # The narrator's who-knows answers show on the "really knows" line of the fact they ask about.
    debt = next(v for v in facts if v["object"] == "f0" and v["holder"] == "" and v["order"] == 1)
    assert debt["who"][1][-1] != ""
