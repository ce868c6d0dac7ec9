"""`make verify` / `make manifest` (not a rule: it runs the whole workflow in a scratch copy).

    python tools/verify.py [--cores N] [--keep-scratch] [-- SNAKEMAKE ARGS...]
    python tools/verify.py --manifest [--cores N]

Extra Snakemake arguments after `--` (e.g. `-- --config 'analysis={...}'`) change the scratch run
only: a changed analysis choice must make the check fail.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tools/ holds commands that are not rules; keep this folder off the import path
sys.path[0] = str(ROOT / "src")

from nenbone.verify.run import VERIFY_DIR, make_manifest, verify  # noqa: E402


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", action="store_true", help="regenerate manifest.json from a fresh run")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep-scratch", action="store_true", help=f"keep {VERIFY_DIR}/.scratch for inspection")
    args = parser.parse_args(argv)
    if args.manifest:
        status, lines = make_manifest(ROOT, args.cores, args.keep_scratch)
        print("\n".join(lines), file=sys.stderr if status else sys.stdout)
        return status
    status, cert = verify(ROOT, args.cores, extra, args.keep_scratch,
                          command="python tools/verify.py" + (f" --cores {args.cores}"))
    print(f"verify: {cert['verdict'].upper()} (certificate: {VERIFY_DIR}/certificate.md, .json, .pdf)")
    for line in cert["problems"]:
        print(f"  {line}", file=sys.stderr)
    ce = cert["cross_engine"]
    print(f"  cross-engine (R survival): {ce['status']}" + (f" ({ce['reason']})" if ce.get("reason") else ""))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
