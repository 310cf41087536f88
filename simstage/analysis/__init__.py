"""The offline floor: what is learnt from run logs and their sidecars.

Latent datasets and probes (mean difference, logistic, CCS), ablation and its
behavioural check, their plots, and a sweep's latent profile
(`sweep_latent.py`). Each returns a typed result (`results.py`) whose
`to_json()` is what `simstage latent ... --json` prints. Nothing here plays a
scene except `behaviour.py`, which re-plays logs through `simstage.run`; the
report renders what these modules compute and trains nothing itself.
"""
