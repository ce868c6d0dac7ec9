"""nenbone: reproducible rebuild of two studies of bone metastases in neuroendocrine neoplasms.

Layers (imports flow one way, top to bottom):
    io -> validation -> derive -> analysis -> presentation -> render
`codebook` and `errors` are shared by all layers; `synthetic` (the twin cohorts) sits on top.
"""

__version__ = "0.1.0"
