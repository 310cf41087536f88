"""The run log: append-only JSONL, one event per line, flushed as written.

Line 1 is a header (version, full scenario text and digest, stage and model,
seed, sampling). Each later line is one event. A crash can cut at most the line
being written; the reader keeps every whole event before it and warns.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simstage import __version__
from simstage.errors import SimstageError
from simstage.events import Event, RunEnded, event_from_dict
from simstage.inputs import read_input

if TYPE_CHECKING:
    from simstage.scenario import LoadedScenario

LOG_FORMAT = 1
DERIVED_BEFORE = frozenset({"tom_metrics", "run_metrics"})
"""Lines of logs written before derived values left the log (with a probe's `tracker`
field): they are skipped on read, since readers compute them from the events."""
MAX_LINE_BYTES = 4_000_000
LONGEST_RUN = 1_000_000
"""Most turns a header may declare (`max_turns`): far past any run played (a scenario allows
100,000), and small enough that every turn number is a plain, exact number downstream."""


class StageInfo(BaseModel):
    """What played the scene."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    backend: str
    model: str
    """The model as the scenario or command line named it."""
    model_file: str | None = None
    """The file name of the GGUF, for local stages."""
    model_sha256: str | None = None
    api_base: str | list[str] | None = None
    """The server(s), for remote stages (never the API key)."""
    chat_format: str | None = None
    """How prompts were rendered: `jinja` (a chat template), `builtin:<family>`, `screenplay`."""
    template_source: str | None = None
    """Where the chat template came from (the GGUF's `tokenizer.chat_template`, a file, ...)."""
    template_sha256: str | None = None
    load_params: dict[str, Any] | None = None
    """`llama_model_params` changed from llama.cpp's defaults for this CPU (AMX avoided)."""


class RunHeader(BaseModel):
    """The first line of a run log."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = "header"
    format: int = LOG_FORMAT
    simstage: str = __version__
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    scenario_path: str
    scenario_sha256: str
    scenario_text: str
    stage: StageInfo
    seed: int
    sampling: dict[str, Any]
    max_turns: int = Field(ge=1, le=LONGEST_RUN)
    """How many turns the run plays: no event's turn is past it (`run --resume --max-turns` updates it)."""
    forked_from: str | None = None
    """The run log this run was forked from, if any."""
    latent: dict[str, Any] | None = None
    """The `latent:` settings the run captured activations with (the scenario's, or `--latent`)."""


class RunLogError(SimstageError):
    """A run log that cannot be read; the message names the file and line."""


class RunLogWriter:
    """Appends events to a run log, one line each, handed to the operating system at once.

    A write that fails (a full disk, a log folder deleted mid-run) cuts the file
    back to its last whole event where it can (where it cannot, the torn last
    line is skipped on read, as after a crash) and raises `RunLogError` naming
    the log and the fault; the log then refuses further events, and closing it
    never raises. Use as a context manager; the file is closed (not truncated) on exit.

    Raises:
        OSError: the log cannot be created or opened.
        RunLogError: the header cannot be written.
    """

    def __init__(
        self,
        path: str | Path,
        header: RunHeader,
        *,
        overwrite: bool = False,
        resume: bool = False,
        kept: int = 0,
    ):
        """Create the log and write its header; with `resume`, append to a log that has it (`kept` events)."""
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        how = os.O_APPEND if resume else os.O_TRUNC if overwrite else os.O_EXCL
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | how, 0o644)
        self._whole = os.lseek(self._fd, 0, os.SEEK_END)
        """Bytes of the file that hold whole lines: where a failed write is cut back to."""
        self.header = header
        self.count = 0
        self._kept = kept
        """Events the log held before this writer's (a resume): counted in a fault's message."""
        self.fault: str | None = None
        """Why the log stopped taking events, once a write failed."""
        if not resume:
            self._write_line(header.model_dump_json())

    def _write_line(self, line: str) -> None:
        if self.fault is not None or self._fd is None:
            raise RunLogError(self.fault or f"{self.path}: the run log is closed")
        data = memoryview((line + "\n").encode("utf-8"))
        try:
            while data:
                data = data[os.write(self._fd, data) :]
            if os.fstat(self._fd).st_nlink == 0:
                raise FileNotFoundError(errno.ENOENT, "the log file or its folder was deleted")
        except OSError as exc:
            self._cut_back()
            whole = self._kept + self.count
            what = f"{whole} events" if whole != 1 else "1 event"
            self.fault = f"{self.path}: cannot write the run log ({exc.strerror or exc}); it keeps the {what} before"
            raise RunLogError(self.fault) from None
        self._whole = os.lseek(self._fd, 0, os.SEEK_CUR)

    def _cut_back(self) -> None:
        """Drop a partly written line, if the file system lets us."""
        try:
            os.ftruncate(self._fd, self._whole)  # type: ignore[arg-type]
        except OSError:
            pass  # the reader skips a torn last line

    def append(self, event: BaseModel) -> None:
        """Write one event (handed to the OS at once, so a crash of this process loses nothing).

        Raises:
            RunLogError: the write failed; the log keeps every whole event before it.
        """
        self._write_line(event.model_dump_json())
        self.count += 1

    def close(self) -> None:
        """Flush to disk and close (never raises: a failed flush has nothing left to save)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    @property
    def closed(self) -> bool:
        """Whether the log is closed."""
        return self._fd is None

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class RunLog:
    """A run log read back: header, events, and any warning about a cut last line."""

    path: str
    header: RunHeader
    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        """Whether the run recorded its end."""
        return any(isinstance(event, RunEnded) for event in self.events)


def read_runlog(path: str | Path) -> RunLog:
    """Read a run log.

    A last line cut by a crash is dropped with a warning; any other bad line is an error.
    Turns only go forward and never past the header's `max_turns`: a forged turn of
    10^400 is refused here, before any reader counts up to it.

    Raises:
        RunLogError: unreadable file, bad header, a corrupt line before the last, or an
            event whose turn goes back or is past `max_turns`.
    """
    name = str(path)
    try:
        raw_lines = read_input(path).split(b"\n")
    except OSError as exc:
        raise RunLogError(f"{name}: cannot read: {exc.strerror}") from None
    ends_with_newline = raw_lines and raw_lines[-1] == b""
    if ends_with_newline:
        raw_lines.pop()
    if not raw_lines or not raw_lines[0].strip():
        raise RunLogError(f"{name}:1: empty file, not a simstage run log")
    header = _parse_header(name, raw_lines[0])
    log = RunLog(path=name, header=header)
    last = len(raw_lines) - 1
    linenos: list[int] = []
    for index in range(1, len(raw_lines)):
        raw = raw_lines[index]
        lineno = index + 1
        if not raw.strip():
            continue
        try:
            if len(raw) > MAX_LINE_BYTES:
                raise ValueError(f"line longer than {MAX_LINE_BYTES} bytes")
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            kind = data.get("type")
            if isinstance(kind, str) and kind in DERIVED_BEFORE:
                continue
            if kind == "probe":
                data.pop("tracker", None)
            event = event_from_dict(data)
        except (ValueError, ValidationError, RecursionError) as exc:
            if index == last and not ends_with_newline:
                log.warnings.append(
                    f"{name}:{lineno}: last line is incomplete (the run was cut off); "
                    f"read {len(log.events)} events before it"
                )
                break
            raise RunLogError(f"{name}:{lineno}: corrupt event: {_short(exc)}") from None
        _check_turn(log, event, lineno)
        log.events.append(event)
        linenos.append(lineno)
    _check_names(log, linenos)
    return log


def _check_turn(log: RunLog, event: Event, lineno: int) -> None:
    """Refuse an event whose turn is before the last event's, or past the run's `max_turns`."""
    previous = log.events[-1].turn if log.events else 0
    where = f"{log.path}:{lineno}: event {event.type!r} at turn {_turn_text(event.turn)}"
    if event.turn > log.header.max_turns:
        raise RunLogError(f"{where} is past the run's max_turns ({log.header.max_turns})")
    if event.turn < previous:
        raise RunLogError(f"{where} comes after turn {previous} (a run's turns never go back)")


def _turn_text(turn: int) -> str:
    digits = str(turn)
    return digits if len(digits) <= 20 else f"{digits[:8]}… ({len(digits)} digits)"


# Fields of world events (and turns, probes) that name things of the scene, by event type.
# Folds index the world by these names, so a hand-edited or forged log that names an
# unknown container would end in a KeyError deep in a fold; it is refused here instead.
_NAMED: dict[str, dict[str, str]] = {
    "enter": {"who": "character", "to": "location", "frm": "location"},
    "exit": {"who": "character", "to": "location", "frm": "location"},
    "move": {"who": "character", "object": "object", "frm": "container", "to": "container"},
    "say": {"who": "character"},
    "tell": {"who": "character", "to": "character"},
    "claim": {"who": "character", "object": "object", "container": "container"},
    "assert": {"who": "character", "to": "character", "fact": "fact"},
    "peek": {"who": "character", "into": "location"},
    "stop_peek": {"who": "character", "into": "location"},
    "distract": {"who": "character"},
    "turn_started": {"speaker": "character", "location": "location"},
    "probe": {"ask": "character", "about": "object"},
    "probe:fact": {"ask": "character", "about": "fact"},
    "who_knows": {"ask": "character", "fact": "fact"},
}
"""A field left unset (a public statement's `to`, the narrator's `ask`) names nothing. A probe's
`about` names a fact when its `kind` is `fact` (the `probe:fact` entry)."""
_LISTED = dict.fromkeys(("through", "names", "witnesses", "watchers", "distracted"), "character")
"""Fields that list names, with the kind of each."""


def _check_names(log: RunLog, linenos: list[int]) -> None:
    """Refuse events that name a character, location, container, object or fact the header's scenario lacks.

    When the header's scenario itself is invalid, the commands report that; nothing is checked here.
    """
    from simstage.scenario import ScenarioError

    try:
        scenario = logged_scenario(log.header).scenario
    except ScenarioError:
        return
    world = scenario.world
    known = {
        "character": set(scenario.cast_names),
        "location": set(world.locations),
        "container": set(world.containers),
        "object": set(world.objects),
        "fact": set(world.facts),
    }
    for event, lineno in zip(log.events, linenos, strict=True):
        fields = _NAMED.get(f"{event.type}:{getattr(event, 'kind', None)}") or _NAMED.get(
            event.type, {}
        )
        names = [(kind, getattr(event, field)) for field, kind in fields.items()]
        names += [
            (kind, name) for field, kind in _LISTED.items() for name in getattr(event, field, ())
        ]
        names += [("object", o) for o in getattr(event, "sees", {})] + [
            ("container", c) for c in getattr(event, "sees", {}).values()
        ]
        for kind, name in names:
            if name is not None and name not in known[kind]:
                raise RunLogError(
                    f"{log.path}:{lineno}: event {event.type!r} names unknown {kind} {str(name)[:80]!r} "
                    "(not in the header's scenario)"
                )


def logged_scenario(header: RunHeader) -> LoadedScenario:
    """The scenario a run played, from its log header.

    Raises:
        ScenarioError: the header's scenario text is not a valid scenario.
    """
    from simstage.scenario import parse_scenario

    loaded = parse_scenario(header.scenario_text, header.scenario_path)
    if header.latent is not None and loaded.scenario.latent is None:
        loaded = with_latent(loaded, header.latent)
    return loaded


def with_latent(loaded: LoadedScenario, settings: dict[str, Any] | None = None) -> LoadedScenario:
    """`loaded` capturing activations (`--latent`): its own `latent:` block, or `settings`, or the defaults."""
    from dataclasses import replace

    from simstage.scenario.latent import LatentConfig

    if loaded.scenario.latent is not None:
        return loaded
    config = LatentConfig.model_validate(settings or {})
    return replace(loaded, scenario=loaded.scenario.model_copy(update={"latent": config}))


def _parse_header(name: str, raw: bytes) -> RunHeader:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RunLogError(f"{name}:1: not a simstage run log ({_short(exc)})") from None
    if not isinstance(data, dict) or data.get("type") != "header":
        raise RunLogError(f"{name}:1: not a simstage run log (no header line)")
    if data.get("format") != LOG_FORMAT:
        raise RunLogError(f"{name}:1: unsupported run log format {data.get('format')!r}")
    try:
        return RunHeader.model_validate(data)
    except ValidationError as exc:
        raise RunLogError(f"{name}:1: bad header: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(exc).splitlines()[0][:200]
