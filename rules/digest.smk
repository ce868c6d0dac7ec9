# Code digests: every rule reruns when its script or any nenbone module it imports changes.
# Snakemake's code trigger hashes the `script:` file only; each rule therefore carries
#     params: code=code_digest("scripts/<rule>.py")
# computed here at parse time (nenbone.verify.digest walks the imports with ast, transitively).
# Needs the package's src/ on sys.path (the Snakefile puts it there before including this file).
from nenbone.verify.digest import code_digest as _code_digest

# The twins are the workflow's default inputs: they are regenerated when their own generator
# changes (nenbone.synthetic, the file writers), not when an analysis or derivation module they
# borrow changes (that would rerun ingest, validate and derive on every analysis edit);
# tests/test_synthetic_*.py check that the twins still meet their design.
TWIN_BORROWED_CODE = ("nenbone.analysis", "nenbone.derive")


def code_digest(script, exclude=()):
    """SHA-256 of `script` (path relative to the Snakefile) and of every package file it runs."""
    base = Path(workflow.basedir)
    return _code_digest(base / script, base / "src", tuple(exclude))
