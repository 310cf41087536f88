"""SimstageError: the one base every expected failure derives from.

The command line turns any SimstageError into one line on stderr and exit status 2
(`cli/errors.friendly_errors`); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class SimstageError(Exception):
    """An expected failure whose message names the file and place: bad input, not a bug."""
