"""`simstage bench`: the stage measured against the naive path and the raw ceiling.

`figures.py` plays the benchmark scene and gathers every figure (wall ratio, prompt
overhead, probes, capture cost, turn scaling); `ceiling.py` is llama.cpp's raw
decode speed on the same hardware; `runs.py` many runs as lanes of one context;
`scene.py` the scripted scene they all play. Figures are ratios measured side by
side in one run, never wall-clock limits.
"""
