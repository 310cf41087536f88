"""Sweeps: one scenario played over many seeds and setting variants, one row per run.

`plan` turns `--seeds` and `--set` into runs with stable ids and checks every
variant before anything plays; `runner` plays the runs (concurrently where the
stage allows) and writes each run's row as it finishes (`rows`); `table` gathers
the rows into `results.csv` (and Parquet); `plot` draws the main metrics per variant.
Nothing here imports pyarrow, matplotlib or plotext until it is used.
"""

from __future__ import annotations

from simstage.sweep.plan import SweepError

__all__ = ["SweepError"]
