"""The run lifecycle: the log, opening, resuming, forking and verifying a run, and the step controller.

- `log`: the append-only JSONL run log (writer and reader);
- `open`: the one way to open a run (new log, resumed log or in memory): stage, header, simulation;
- `resume`: continue an interrupted or failed run in its own log;
- `fork`: continue a run in a new log holding every event so far;
- `verify`: re-run a logged scene and compare every event;
- `control`: a UI-free play / pause / step / stop loop with a cancel token.

Import the submodules; this package imports nothing itself.
"""
