"""Verification layer (top of the package): code digests that make rules rerun when the code they
run changes (`digest`), the manifest of a run's outputs (`manifest`), the cross-engine check against
R's survival package (`cross_engine`, `survival.R`) and the reviewer's certificate (`certificate`).

Kept free of imports here: `digest` is imported by the Snakefile at parse time and must stay cheap.
"""
