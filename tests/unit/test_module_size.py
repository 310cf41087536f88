"""No module under simstage/ passes 400 lines: a longer one is split by concern."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "simstage"
MOST_LINES = 400


def oversized(package: Path, most: int = MOST_LINES) -> list[str]:
    """`path (N lines)` for each module under `package` longer than `most` lines, longest first."""
    counts = {
        path.relative_to(package.parent).as_posix(): len(
            path.read_text(encoding="utf-8").splitlines()
        )
        for path in package.rglob("*.py")
    }
    offenders = sorted((n, name) for name, n in counts.items() if n > most)
    return [f"{name} ({n} lines)" for n, name in reversed(offenders)]


def test_no_module_passes_400_lines() -> None:
    offenders = ", ".join(oversized(PACKAGE))
    assert not offenders, f"modules over {MOST_LINES} lines (split them by concern): {offenders}"


def test_the_count_names_a_long_module_and_spares_one_at_the_limit(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "at_limit.py").write_text("x = 1\n" * MOST_LINES, encoding="utf-8")
    (package / "sub" / "long.py").write_text("x = 1\n" * (MOST_LINES + 1), encoding="utf-8")
    assert oversized(package) == [f"pkg/sub/long.py ({MOST_LINES + 1} lines)"]
