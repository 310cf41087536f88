"""Latent beliefs, as a run records them: which probes capture the residual stream, and the sidecar.

`probing.py` says which probes are captured (and the control wording) and makes the
`latent_captured` event; `store.py` keeps the vectors beside the run log. Reading the
stream is the stage's (`simstage/stage/capture.py`); what is learnt from the files
(datasets, probes, CCS, ablation) is the analysis floor's (`simstage/analysis/`).
"""
