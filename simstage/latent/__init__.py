"""Latent beliefs: the residual stream the stage holds when a probe is asked, and probes fitted on it.

`capture.py` reads it through llama.cpp's eval callback, `store.py` keeps it beside
the run log; the dataset, probes and ablations read those files.
"""
