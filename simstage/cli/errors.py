"""How the command line fails: one clear line per problem on stderr, exit status 2; and SIGTERM as Ctrl-C.

Bad input (a broken scenario, a missing model, a corrupt run log, a sweep folder
that is not one) is never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from rich.console import Console

from simstage.errors import SimstageError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2


def stderr_console() -> Console:
    """A console on stderr that never reads file names or model text as markup or emoji."""
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print `simstage: message` on stderr (one such line per line of it) and exit."""
    from rich.text import Text

    from simstage.terminal import printable

    console = stderr_console()
    # Messages quote file names and file contents: never parse them as markup, and
    # show the control characters they hold rather than let the terminal obey them.
    for line in message.splitlines() or [""]:
        console.print(Text.assemble(("simstage:", "bold red"), " ", printable(line)))
    raise SystemExit(code)


def header_scenario_problem(runlog: str, problems: Sequence[Any]) -> str:
    """The one line for a run log whose header holds an invalid scenario.

    It blames the log (line 1, its header), and places the problem in the
    scenario text the header holds, never in the scenario file it was read from.
    """
    if not problems:
        return f"{runlog}:1: the scenario in the header is invalid"
    first = problems[0]
    field = f" {first.field}:" if first.field else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (
        f"{runlog}:1: the scenario in the header is invalid (at line {first.line} of its text):"
        f"{field} {first.message}{more}"
    )


class StdoutError(SimstageError):
    """Standard output cannot take what the command prints (a full disk, /dev/full; not a closed pipe).

    Said once, after the command, by the guard around the command line (`cli/stdout.py`).
    """


def friendly_errors(function: F) -> F:
    """Turn the project's input errors into one-line messages and exit status 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from simstage.scenario import ScenarioError
        from simstage.terminal import printable

        try:
            return function(*args, **kwargs)
        except StdoutError:
            raise  # said once, after the command, by the guard around the command line
        except ScenarioError as exc:
            console = stderr_console()
            for problem in exc.problems:
                console.print(printable(str(problem)), markup=False)
            raise SystemExit(EXIT_BAD_INPUT) from None
        except SimstageError as exc:
            fail(str(exc))
        except BrokenPipeError:
            raise SystemExit(0) from None

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the work as Ctrl-C does, while it lasts (main thread only)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stopping_exits_130(function: Callable[..., None]) -> Callable[..., None]:
    """`function` with Ctrl-C and SIGTERM as a clean stop wherever they fall (a sweep or battery
    setting up, before its runs' own handling of them): one line, exit status 130."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        with sigterm_as_interrupt():
            try:
                function(*args, **kwargs)
            except KeyboardInterrupt:
                stderr_console().print(
                    "stopped: the runs finished stay, and the same command goes on", markup=False
                )
                raise SystemExit(130) from None

    return wrapper
