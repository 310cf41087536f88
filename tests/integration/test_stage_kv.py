"""The multi-sequence stage: tokenization, equivalence with the naive path, probes, snapshots."""

from __future__ import annotations

import pytest

from simstage.bench.scene import SceneScript
from simstage.engine import Simulation
from simstage.scenario import load_scenario
from simstage.stage.base import Message, Sampling
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.model


def test_incremental_tokenization_equals_full(llama_stage) -> None:
    """A character's earlier prompt plus its reply tokenizes as the start of its next prompt.

    That is what lets its sequence keep its KV cache: the new prompt, tokenized
    whole, begins with exactly the tokens the sequence already holds.
    """
    loaded = load_scenario(SCENARIOS / "dinner-party.yaml")
    stage = ScriptedStage()
    Simulation(loaded.scenario, stage).run()
    last: dict[int, tuple[str, list[int]]] = {}
    checked = 0
    for seq, messages in stage.prompts:
        text = llama_stage.prompt_text(messages)
        full = llama_stage.prompt_tokens(messages)
        if seq in last:
            earlier_text, earlier = last[seq]
            assert text.startswith(earlier_text)
            assert full[: len(earlier)] == earlier
            checked += 1
        last[seq] = (text, full)
    assert checked >= loaded.scenario.max_turns - len(loaded.scenario.cast)


def _play(llama_stage, turns: int, naive: bool) -> tuple[list[list[int]], int]:
    script = SceneScript(3)
    seqs = {name: llama_stage.open_sequence() for name in script.names}
    greedy = Sampling(temperature=0.0, max_tokens=10)
    lines: list[list[int]] = []
    before = llama_stage.counters.prompt_tokens
    try:
        for turn in range(turns):
            name = script.speaker(turn)
            if naive:  # the whole prompt into an empty sequence, every turn
                llama_stage.drop(seqs[name])
                seqs[name] = llama_stage.open_sequence()
            prompt = llama_stage.prompt_tokens(script.messages(name))
            start = len(prompt)
            text = "".join(llama_stage.generate_tokens(seqs[name], prompt, greedy, block_eog=True))
            lines.append(llama_stage._cache[seqs[name]][start:])
            script.lines.append((name, text))
    finally:
        for seq in seqs.values():
            llama_stage.drop(seq)
    return lines, llama_stage.counters.prompt_tokens - before


def test_greedy_lines_match_the_naive_full_prompt_path(llama_stage) -> None:
    ours, ours_cost = _play(llama_stage, 9, naive=False)
    naive, naive_cost = _play(llama_stage, 9, naive=True)
    assert ours == naive  # token for token
    assert ours_cost < naive_cost


def test_shared_scene_prefix_is_decoded_once(llama_stage) -> None:
    script = SceneScript(4)
    borrowed_before = llama_stage.counters.extra.get("borrowed_tokens", 0)
    seqs = [llama_stage.open_sequence() for _ in script.names]
    try:
        for seq, name in zip(seqs, script.names, strict=False):
            llama_stage.sync(seq, llama_stage.prompt_tokens(script.messages(name)))
        borrowed = llama_stage.counters.extra.get("borrowed_tokens", 0) - borrowed_before
        preamble = len(llama_stage.tokenize(script.messages(script.names[0])[0].content))
        # Three of the four characters copy the shared preamble instead of decoding it.
        assert borrowed >= 3 * (preamble - 40)
    finally:
        for seq in seqs:
            llama_stage.drop(seq)


def test_snapshot_restores_a_sequence_without_recomputing(llama_stage) -> None:
    script = SceneScript(2)
    messages = script.messages(script.names[0])
    greedy = Sampling(temperature=0.0, max_tokens=10)
    seq = llama_stage.open_sequence()
    llama_stage.sync(seq, llama_stage.prompt_tokens(messages))
    snapshot = llama_stage.save_sequence(seq)
    expected = "".join(llama_stage.generate(seq, messages, greedy))
    llama_stage.drop(seq)
    before = llama_stage.counters.prompt_tokens
    restored = llama_stage.restore_sequence(snapshot)
    try:
        assert llama_stage.kv_length(restored) == len(snapshot.tokens)
        assert "".join(llama_stage.generate(restored, messages, greedy)) == expected
        # Only the last prompt token is decoded again (for its logits).
        assert llama_stage.counters.prompt_tokens - before == 1
    finally:
        llama_stage.drop(restored)


def test_candidates_are_decoded_in_one_batch_per_step(llama_stage) -> None:
    script = SceneScript(2)
    messages = script.messages(script.names[0])
    seq = llama_stage.open_sequence()
    try:
        llama_stage.sync(seq, llama_stage.prompt_tokens(messages))
        length = llama_stage.kv_length(seq)
        calls = llama_stage.counters.decode_calls
        batched = llama_stage.counters.batched_calls
        lines = llama_stage.generate_candidates(
            seq, messages, Sampling(temperature=0.9, max_tokens=8, seed=3), 4
        )
        assert len(lines) == 4 and len(set(lines)) > 1
        steps = llama_stage.counters.decode_calls - calls
        # About one decode per generated token for all four, not four per token.
        assert steps <= 8 + 1
        assert llama_stage.counters.batched_calls - batched >= 6
        assert llama_stage.kv_length(seq) == length
    finally:
        llama_stage.drop(seq)


def test_probes_to_every_character_share_batches(llama_stage) -> None:
    script = SceneScript(4)
    jobs = []
    seqs = []
    for name in script.names:
        seq = llama_stage.open_sequence()
        seqs.append(seq)
        messages = script.messages(name)
        llama_stage.sync(seq, llama_stage.prompt_tokens(messages))
        jobs.append((seq, messages, ["kitchen", "cellar"], "The wine is in the "))
    try:
        lengths = [llama_stage.kv_length(seq) for seq in seqs]
        calls = llama_stage.counters.decode_calls
        answers = llama_stage.choose_many(jobs)
        assert len(answers) == 4
        assert llama_stage.counters.decode_calls - calls <= 2
        assert [llama_stage.kv_length(seq) for seq in seqs] == lengths
    finally:
        for seq in seqs:
            llama_stage.drop(seq)


def test_two_probes_to_one_character_in_one_batch(llama_stage) -> None:
    """Forks of the same sequence in one batch must not borrow cells not yet decoded."""
    script = SceneScript(2)
    name = script.names[0]
    messages = script.messages(name)
    seq = llama_stage.open_sequence()
    try:
        llama_stage.sync(seq, llama_stage.prompt_tokens(messages))
        first = [*messages[:-1], Message("user", messages[-1].content + " Where is the wine? " * 8)]
        second = [
            *messages[:-1],
            Message("user", messages[-1].content + " Where is the wine? " * 8 + "Think."),
        ]
        jobs = [
            (seq, first, ["kitchen", "cellar"], "The "),
            (seq, second, ["kitchen", "cellar"], "The "),
        ]
        together = llama_stage.choose_many(jobs)
        apart = [llama_stage.choose_many([job])[0] for job in jobs]
        assert together == apart
    finally:
        llama_stage.drop(seq)
