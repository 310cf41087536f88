"""CCS (`simstage.analysis.ccs`, through `probes.fit`): finds a planted truth direction in contrast pairs without labels, and nothing where there is none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simstage.analysis.ccs import _loss, fit_ccs
from simstage.analysis.dataset import LatentDataset, build_dataset, load_dataset
from simstage.analysis.probes import fit
from simstage.analysis.results import CcsRows, Skipped
from tests.unit.latent_runs import DIMS, LAYERS, Plant, write_sweep


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> LatentDataset:
    """20 runs; the believed container's completion planted at layer 3 in each contrast pair."""
    folder = write_sweep(
        tmp_path_factory.mktemp("paired"),
        20,
        contrast=Plant("believed", None, layer=3, strength=2.0),
    )
    return build_dataset([folder])


def test_the_dataset_keeps_each_rows_contrast_pair(paired: LatentDataset, tmp_path: Path) -> None:
    assert paired.pairs is not None and paired.pairs.shape == (len(paired), 2, len(LAYERS), DIMS)
    assert all(row["contrast"] == ["basket", "box"] for row in paired.labels)
    # The first completion carries the constant offset; the question's own token does not.
    assert paired.pairs[:, 0].mean() > 4 and abs(paired.X.mean()) < 0.5
    paired.save(tmp_path / "ds.npz")
    np.testing.assert_array_equal(load_dataset(tmp_path / "ds.npz").pairs, paired.pairs)


def test_ccs_finds_the_planted_truth_at_its_layer_only(paired: LatentDataset) -> None:
    result = fit(paired, target="container")
    layers = {entry.layer: entry.ccs for entry in result.layers}
    assert layers[3].estimate >= 0.9 and layers[3].method == "95% bootstrap over runs"
    assert layers[1].estimate < 0.75 and layers[5].estimate < 0.75
    assert isinstance(result.ccs, CcsRows)
    assert result.ccs.rows == result.summary.n and "sign set on the train rows" in result.ccs.method


def test_ccs_says_why_it_does_not_apply(paired: LatentDataset) -> None:
    result = fit(paired, target="false_belief")
    assert isinstance(result.ccs, Skipped) and "not a choice between the pair" in result.ccs.reason
    assert all(entry.ccs is None for entry in result.layers)
    # named_last is a paired target, but nothing is planted for it: CCS stays near chance.
    unplanted = fit(paired, target="named_last", layers=[3])
    assert unplanted.layers[0].ccs.estimate < 0.75


def test_the_loss_gradient_is_right() -> None:
    rng = np.random.default_rng(0)
    pos, neg = rng.standard_normal((12, 5)), rng.standard_normal((12, 5))
    params = rng.standard_normal(6)
    _, grad = _loss(params, pos, neg, 0.01)
    step = 1e-6
    numeric = [
        (_loss(params + step * e, pos, neg, 0.01)[0] - _loss(params - step * e, pos, neg, 0.01)[0])
        / (2 * step)
        for e in np.eye(6)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


def test_the_sign_comes_from_the_train_labels_only() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(80) < 0.5
    u = np.eye(8)[0]
    sign = np.where(truth, 1.0, -1.0)[:, None]
    pos = rng.standard_normal((80, 8)) + 3 * sign * u
    neg = rng.standard_normal((80, 8)) - 3 * sign * u
    probe = fit_ccs(pos, neg, truth)
    assert np.mean(probe.predict(pos, neg) == truth) > 0.9
    flipped = fit_ccs(pos, neg, ~truth)
    assert np.mean(flipped.predict(pos, neg) == truth) < 0.1


def test_contrast_needs_two_candidates() -> None:
    from simstage.scenario import ScenarioError, parse_scenario
    from tests.conftest import SCENARIOS

    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    three = text.replace("    box: {in: room}\n", "    box: {in: room}\n    drawer: {in: room}\n")
    assert three != text
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(three + "\nlatent: {contrast: true}\n", "three.yaml")
    assert "contrast pairs need two candidate containers" in str(caught.value)
    assert parse_scenario(
        three + "\nlatent: {contrast: true, name_options: true}\n", "three.yaml"
    ).scenario.latent.contrast
    assert parse_scenario(
        text + "\nlatent: {contrast: true}\n", "two.yaml"
    ).scenario.latent.contrast


def test_fit_prints_a_ccs_column(paired: LatentDataset, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from simstage.cli import main

    paired.save(tmp_path / "ds.npz")
    result = CliRunner().invoke(main, ["latent", "fit", str(tmp_path / "ds.npz"), "--layers", "3"])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.strip().startswith("layer"))
    assert "CCS" in header and "ccs: 60 contrast pairs" in result.output
