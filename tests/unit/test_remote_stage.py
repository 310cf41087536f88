"""The remote (litellm) stage against a fake completion function: retries, formats, slots, keys."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest

from simstage.engine import Simulation
from simstage.stage import make_stage
from simstage.stage.base import Message, Sampling, StageError
from simstage.stage.remote import RemoteStage
from simstage.stage.remote_faults import is_transient, match_option, short_error
from tests.conftest import say

URL = "http://127.0.0.1:9/v1"
PROMPT = [Message("system", "You are Sally."), Message("user", "Your turn.")]


class StatusError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status_code = status


class APIConnectionError(Exception):
    pass


def chunk(text: str | None = None, usage: NS | None = None) -> NS:
    choices = [] if text is None else [NS(delta=NS(content=text))]
    return NS(choices=choices, usage=usage)


def reply(text: str, logprobs: NS | None = None) -> NS:
    return NS(
        choices=[NS(message=NS(content=text), logprobs=logprobs)],
        usage=NS(prompt_tokens=11, completion_tokens=3),
    )


class FakeServer:
    """Records each request; answers from `answer(request)` or raises what it returns."""

    def __init__(self, answer):
        self.requests: list[dict] = []
        self._answer = answer

    def __call__(self, **request):
        self.requests.append(request)
        result = self._answer(request)
        if isinstance(result, BaseException):
            raise result
        return result


def streaming(text: str):
    def answer(request):
        return iter(
            [
                chunk(text[:5]),
                chunk(text[5:]),
                chunk(None, NS(prompt_tokens=40, completion_tokens=9)),
            ]
        )

    return answer


def stage(server, **kwargs) -> RemoteStage:
    return RemoteStage("openai/test", api_base=URL, backoff=0.0, completion=server, **kwargs)


def test_generate_streams_and_counts_usage() -> None:
    server = FakeServer(streaming('{"say": "Hi.", "action": null}'))
    remote = stage(server)
    seq = remote.open_sequence()
    chunks = list(
        remote.generate(
            seq, PROMPT, Sampling(temperature=0.3, seed=5, json_schema={"type": "object"})
        )
    )
    assert "".join(chunks) == '{"say": "Hi.", "action": null}' and len(chunks) == 2
    request = server.requests[0]
    assert request["api_base"] == URL and request["stream"] is True and request["seed"] == 5
    assert request["messages"][0] == {"role": "system", "content": "You are Sally."}
    assert request["response_format"]["type"] == "json_schema"
    assert remote.counters.prompt_tokens == 40 and remote.counters.generated_tokens == 9


def test_unreachable_server_is_retried_then_named() -> None:
    server = FakeServer(lambda request: APIConnectionError("Connection refused"))
    remote = stage(server, retries=2)
    with pytest.raises(StageError) as caught:
        list(remote.generate(remote.open_sequence(), PROMPT, Sampling()))
    message = str(caught.value)
    assert URL in message and "openai/test" in message and "3 attempts" in message
    assert len(server.requests) == 3


def test_a_busy_server_is_retried_until_it_answers() -> None:
    answers = iter([StatusError("overloaded", 503), StatusError("rate limited", 429)])

    def answer(request):
        return next(answers, None) or iter([chunk("ok")])

    server = FakeServer(answer)
    remote = stage(server, retries=3)
    assert "".join(remote.generate(remote.open_sequence(), PROMPT, Sampling())) == "ok"
    assert len(server.requests) == 3


def test_a_bad_request_is_not_retried() -> None:
    server = FakeServer(lambda request: StatusError("model 'x' not found", 404))
    remote = stage(server, response_format="none")
    with pytest.raises(StageError, match="refused: model 'x' not found"):
        list(remote.generate(remote.open_sequence(), PROMPT, Sampling()))
    assert len(server.requests) == 1


def test_auto_format_falls_back_to_what_the_server_accepts_and_keeps_it() -> None:
    def answer(request):
        if request.get("response_format", {}).get("type") == "json_schema":
            return StatusError("Input should be 'text' or 'json_object'", 500)
        return iter([chunk(say("Hello."))])

    server = FakeServer(answer)
    remote = stage(server)
    seq = remote.open_sequence()
    sampling = Sampling(json_schema={"type": "object"})
    assert remote.response_format == "auto"
    assert json.loads("".join(remote.generate(seq, PROMPT, sampling)))["say"] == "Hello."
    assert remote.response_format == "json_object"
    assert server.requests[1]["response_format"] == {
        "type": "json_object",
        "schema": {"type": "object"},
    }
    list(remote.generate(seq, PROMPT, sampling))
    assert [r["response_format"]["type"] for r in server.requests] == [
        "json_schema",
        "json_object",
        "json_object",
    ]


def test_an_unreachable_server_does_not_downgrade_the_format() -> None:
    server = FakeServer(lambda request: APIConnectionError("Connection refused"))
    remote = stage(server, retries=0)
    with pytest.raises(StageError, match="cannot reach"):
        list(
            remote.generate(
                remote.open_sequence(), PROMPT, Sampling(json_schema={"type": "object"})
            )
        )
    assert [r["response_format"]["type"] for r in server.requests] == ["json_schema"]


def test_characters_are_pinned_to_slots_and_probes_share_them() -> None:
    server = FakeServer(lambda request: iter([chunk("x")]))
    remote = stage(server, slots=2)
    sally, anne, carol = (remote.open_sequence() for _ in range(3))
    probe = remote.fork(anne)
    for seq in (sally, anne, carol, probe):
        list(remote.generate(seq, PROMPT, Sampling()))
    slots = [r["extra_body"]["id_slot"] for r in server.requests]
    assert slots == [0, 1, 0, 1]
    assert all(r["extra_body"]["cache_prompt"] is True for r in server.requests)


def test_no_slots_sends_no_extra_body() -> None:
    server = FakeServer(lambda request: iter([chunk("x")]))
    remote = stage(server)
    list(remote.generate(remote.open_sequence(), PROMPT, Sampling()))
    assert "extra_body" not in server.requests[0]


def test_the_key_comes_from_the_environment_and_is_never_described(monkeypatch) -> None:
    monkeypatch.setenv("SIMSTAGE_TEST_KEY", "sk-secret-123")
    server = FakeServer(lambda request: iter([chunk("x")]))
    remote = stage(server, api_key_env="SIMSTAGE_TEST_KEY")
    list(remote.generate(remote.open_sequence(), PROMPT, Sampling()))
    assert server.requests[0]["api_key"] == "sk-secret-123"
    assert "sk-secret-123" not in json.dumps(remote.describe().recorded())
    monkeypatch.delenv("SIMSTAGE_TEST_KEY")
    with pytest.raises(StageError, match="SIMSTAGE_TEST_KEY"):
        stage(server, api_key_env="SIMSTAGE_TEST_KEY")


def test_choose_reads_a_constrained_answer() -> None:
    server = FakeServer(lambda request: reply('{"answer": "box"}'))
    remote = stage(server)
    assert remote.choose(remote.open_sequence(), PROMPT, [" basket", " box"], prefix="Answer:") == 1
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["answer"]["enum"] == ["basket", "box"]
    assert server.requests[0]["temperature"] == 0.0


def test_choose_without_constraints_matches_the_free_text() -> None:
    server = FakeServer(lambda request: reply("I think it is in the box, not the basket."))
    remote = stage(server, response_format="none")
    assert remote.choose(remote.open_sequence(), PROMPT, ["basket", "box"]) == 1
    assert "response_format" not in server.requests[0]


def test_match_option_prefers_the_earliest_mention_then_the_closest() -> None:
    assert match_option("basket! no, box", ["box", "basket"]) == 1
    assert match_option("baskit", ["box", "basket"]) == 1


def test_score_reads_the_first_token_log_probability() -> None:
    top = [NS(token="Yes", logprob=-0.2), NS(token="No", logprob=-1.7)]
    server = FakeServer(
        lambda request: reply("Yes", NS(content=[NS(token="Yes", logprob=-0.2, top_logprobs=top)]))
    )
    remote = stage(server)
    seq = remote.open_sequence()
    assert remote.score(seq, PROMPT, "No") == pytest.approx(-1.7)
    assert remote.score(seq, PROMPT, "Maybe") == -50.0
    assert server.requests[0]["logprobs"] is True and server.requests[0]["max_tokens"] == 1


def test_score_without_log_probabilities_is_a_clear_error() -> None:
    server = FakeServer(lambda request: reply("Yes"))
    with pytest.raises(StageError, match="no log-probabilities"):
        stage(server).score(0, PROMPT, "Yes")


def test_error_helpers() -> None:
    assert (
        short_error(
            Exception(
                "litellm.APIConnectionError: APIConnectionError: OpenAIException - Connection error."
            )
        )
        == "Connection error."
    )
    assert is_transient(StatusError("Connection error.", 500))
    assert not is_transient(StatusError("bad request", 400))
    assert is_transient(StatusError("slow down", 429))


def test_make_stage_needs_a_litellm_model_name(sally_anne) -> None:
    with pytest.raises(StageError, match="openai/NAME"):
        make_stage(sally_anne.scenario.stage, backend="litellm")


def test_a_scene_plays_through_the_remote_stage(sally_anne) -> None:
    def answer(request):
        if request.get("stream"):
            return iter([chunk(say("Where is my marble?"))])
        return reply('{"answer": "basket"}')

    server = FakeServer(answer)
    simulation = Simulation(sally_anne.scenario, stage(server), max_turns=6)
    assert simulation.run() == "completed"
    probes = [e for e in simulation.events if e.type == "probe"]
    assert probes and all(p.answer == "basket" for p in probes)
    assert sum(1 for e in simulation.events if e.type == "say") == 6


def test_several_servers_share_one_router_and_runs_spread_over_them() -> None:
    bases = ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"]
    stages = [RemoteStage("openai/spread-test", api_base=bases) for _ in range(3)]
    assert [stage._home for stage in stages] == [0, 1, 0]
    assert stages[0].describe().api_base == tuple(bases)
    stages[1].close()
    assert RemoteStage("openai/spread-test", api_base=bases)._home == 1  # the freed server


def test_each_character_may_use_the_whole_server_window(sally_anne) -> None:
    remote = stage(FakeServer(lambda request: iter([chunk("x")])), n_ctx=2048)
    assert Simulation(sally_anne.scenario, remote).context_budget() == 2048


def test_validate_names_a_local_model_under_the_litellm_backend(tmp_path) -> None:
    from click.testing import CliRunner

    from simstage.cli import main

    path = tmp_path / "remote.yaml"
    path.write_text(
        "title: x\nstage: {backend: litellm, model: default}\nworld: {locations: [a]}\n"
        "cast: [{name: A, persona: p, location: a}]\n"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert (
        f"{path}:2:" in result.output and "stage.model: the litellm backend needs" in result.output
    )
