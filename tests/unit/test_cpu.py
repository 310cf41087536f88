"""The CPU decision: which model params a CPU gets (AMX avoided by default, llama.cpp #20824)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from simstage.stage.config import LlamaStageConfig
from simstage.stage.cpu import (
    apply_overrides,
    cpu_safe_defaults,
    has_amx,
    model_param_overrides,
    parse_cpu_flags,
)

SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu vme de pse avx2 avx512f avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8
bugs\t\t: spectre_v1

processor\t: 1
flags\t\t: fpu
"""
EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme de pse avx2 avx512f avx512_bf16
"""
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"


def test_flags_are_read_from_the_first_processor():
    flags = parse_cpu_flags(SAPPHIRE_RAPIDS)
    assert {"amx_tile", "amx_int8", "avx2"} <= flags
    assert parse_cpu_flags(ARM) >= {"asimd"}
    assert parse_cpu_flags("") == frozenset()


@pytest.mark.parametrize(
    ("cpuinfo", "amx"), [(SAPPHIRE_RAPIDS, True), (EPYC, False), (ARM, False), ("", False)]
)
def test_amx_is_detected_from_its_flags(cpuinfo, amx):
    assert has_amx(parse_cpu_flags(cpuinfo)) is amx


def test_a_cpu_with_amx_loads_without_extra_buffer_types():
    assert model_param_overrides(parse_cpu_flags(SAPPHIRE_RAPIDS)) == {"use_extra_bufts": False}
    assert model_param_overrides({"amx_int8"}) == {"use_extra_bufts": False}


def test_amx_can_be_opted_back_into():
    assert model_param_overrides(parse_cpu_flags(SAPPHIRE_RAPIDS), allow_amx=True) == {}


def test_a_cpu_without_amx_keeps_llama_cpp_defaults():
    assert model_param_overrides(parse_cpu_flags(EPYC)) == {}
    assert model_param_overrides(parse_cpu_flags(ARM), allow_amx=True) == {}


def test_overrides_land_on_the_params_struct():
    def defaults():
        return SimpleNamespace(use_extra_bufts=True, n_gpu_layers=0)

    def loaded(flags, allow_amx=False):
        return apply_overrides(defaults(), model_param_overrides(flags, allow_amx=allow_amx))

    assert loaded({"amx_tile"}).use_extra_bufts is False
    assert loaded({"amx_tile"}, allow_amx=True).use_extra_bufts is True
    assert loaded({"avx2"}).use_extra_bufts is True
    params = apply_overrides(SimpleNamespace(use_extra_bufts=True), {"use_extra_bufts": False})
    assert params.use_extra_bufts is False


def test_the_stage_option_defaults_to_avoiding_amx():
    assert LlamaStageConfig.model_validate({}).amx is False
    assert LlamaStageConfig.model_validate({"amx": True}).amx is True


def test_high_level_llama_defaults_are_patched_only_inside_the_block(monkeypatch):
    low = pytest.importorskip("llama_cpp.llama_cpp")
    monkeypatch.setattr("simstage.stage.cpu.cpu_flags", lambda: frozenset({"amx_int8"}))
    original = low.llama_model_default_params
    with cpu_safe_defaults():
        assert low.llama_model_default_params().use_extra_bufts is False
    assert low.llama_model_default_params is original
    assert original().use_extra_bufts is True
    with cpu_safe_defaults(allow_amx=True):
        assert low.llama_model_default_params is original
