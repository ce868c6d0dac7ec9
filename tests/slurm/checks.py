"""Checks used by run_cluster_test.sh: site profile, result hashes, SLURM jobs of a run, failure and rerun.

Each subcommand prints what it looked at and exits non-zero with a message saying what is wrong.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

# Trees a run writes and the comparison covers (relative to the workflow copy).
RESULT_TREES = ("results", "resources/synthetic")
# Files that legitimately differ between two runs: logs, benchmarks and the per-rule wall times.
EXCLUDED = ("*/logs/*", "*/benchmarks/*", "*.log", "*/provenance/rule_times.tsv", "*/provenance/failed_run.json")


def fail(msg: str) -> None:
    """Stop with a message for the test log."""
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


# --- site profile ---------------------------------------------------------------------------------
def cap_expression(expr: object, cap: int) -> str:
    """Wrap a mem_mb value (an int or a Python expression over `attempt`) so it never exceeds cap."""
    return f"min({expr}, {cap})"


def site_profile(args: argparse.Namespace) -> None:
    """Copy profiles/slurm/config.yaml with the SITE values a user sets, for the test cluster."""
    profile = yaml.safe_load(Path(args.src).read_text())
    edits = {}
    defaults = profile.setdefault("default-resources", {})
    for key, value in (("slurm_partition", args.partition), ("slurm_account", args.account)):
        if key not in defaults:
            fail(f"{args.src}: default-resources has no '{key}' for a site to set")
        defaults[key] = value
        edits[f"default-resources.{key}"] = value
    # A node smaller than a rule's request (e.g. a 2-core CI runner) would leave jobs pending forever.
    memories = [("default-resources", defaults)] + [
        (f"set-resources.{rule}", res) for rule, res in (profile.get("set-resources") or {}).items()
    ]
    for where, res in memories:
        if "mem_mb" in res:
            res["mem_mb"] = cap_expression(res["mem_mb"], args.mem_cap)
            edits[f"{where}.mem_mb"] = res["mem_mb"]
    profile["max-threads"] = args.max_threads
    edits["max-threads"] = args.max_threads
    if int(profile.get("cores", 0)) > args.max_threads:   # width of a group job
        profile["cores"] = edits["cores"] = args.max_threads
    dst = Path(args.dst)
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    print(f"site profile {dst / 'config.yaml'} = {args.src} with:")
    for key, value in edits.items():
        print(f"  {key}: {value!r}")


# --- results ----------------------------------------------------------------------------------------
def tree_hashes(root: Path) -> tuple[dict[str, str], list[str]]:
    """Hashes of every compared file under root's result trees, and the excluded paths."""
    hashes, excluded = {}, []
    for tree in RESULT_TREES:
        for path in sorted((root / tree).rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if any(fnmatch.fnmatch("/" + rel, p) for p in EXCLUDED):
                excluded.append(rel)
                continue
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes, excluded


def compare(args: argparse.Namespace) -> None:
    """Byte-for-byte comparison of two runs' results (A = reference local run, B = cluster run)."""
    a, ex_a = tree_hashes(Path(args.a))
    b, ex_b = tree_hashes(Path(args.b))
    if not a:
        fail(f"no result files under {args.a} ({', '.join(RESULT_TREES)})")
    print(f"compared {len(a)} files ({args.a} vs {args.b}):")
    for rel in sorted(a):
        mark = "same" if b.get(rel) == a[rel] else "DIFFERENT"
        print(f"  {mark:9} {a[rel][:16]}  {rel}")
    print(f"not compared ({len(set(ex_a) | set(ex_b))} logs, benchmarks, rule wall times):")
    for rel in sorted(set(ex_a) | set(ex_b)):
        print(f"  {rel}")
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    differ = sorted(rel for rel in set(a) & set(b) if a[rel] != b[rel])
    problems = []
    if only_a:
        problems.append(f"only in {args.a}: {only_a}")
    if only_b:
        problems.append(f"only in {args.b}: {only_b}")
    if differ:
        problems.append(f"contents differ: {differ}")
    if problems:
        fail("results are not identical: " + "; ".join(problems))
    print(f"OK: {len(a)} files identical")


# --- SLURM jobs of a run ------------------------------------------------------------------------------
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.?$")
RULE_BLOCK = re.compile(r"^(\s*)(local)?rule (\w+):$")


def parse_log(text: str) -> dict:
    """What a Snakemake controller log says: run ID, SLURM submissions, remote and local jobs."""
    run_ids = re.findall(r"SLURM run ID: (\S+)", text)
    submitted = [(m.group(1), m.group(2)) for m in map(SUBMITTED.search, text.splitlines()) if m]
    remote, local, members, groups = [], [], [], 0
    for line in text.splitlines():
        if "Group job" in line and "(jobs in lexicogr. order)" in line:
            groups += 1
        m = RULE_BLOCK.match(line)
        if not m:
            continue
        indent, is_local, rule = m.groups()
        if is_local:
            local.append(rule)
        elif indent:
            members.append(rule)
        else:
            remote.append(rule)
    return {"run_ids": run_ids, "submitted": submitted, "remote": remote, "local": local,
            "members": members, "groups": groups}


def sacct(jobs: list[str] | None = None, name: str | None = None) -> list[dict]:
    """Accounting records (sacct -X) of the given job IDs or job name, from the last two days."""
    fields = "JobIDRaw,JobName,Comment,State,ExitCode,Elapsed,ReqCPUS,ReqMem,Timelimit,Account,Partition"
    start = (dt.datetime.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    cmd = ["sacct", "-X", "--parsable2", "--noheader", f"--format={fields}", f"--starttime={start}"]
    cmd += [f"--jobs={','.join(jobs)}"] if jobs else [f"--name={name}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    keys = fields.split(",")
    return [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.strip()]


def print_sacct(rows: list[dict]) -> None:
    """The accounting table, as evidence in the test output."""
    cols = ["JobIDRaw", "Comment", "State", "ExitCode", "Elapsed", "ReqCPUS", "ReqMem", "Timelimit",
            "Account", "Partition"]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols} if rows else {c: len(c) for c in cols}
    print("  " + "  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  " + "  ".join(r[c].ljust(widths[c]) for c in cols))


def comment_rule(comment: str, rule: str) -> bool:
    """Whether a job's SLURM comment (set by the plugin) names this rule."""
    return re.fullmatch(rf"rule_{re.escape(rule)}(_wildcards_.*)?", comment) is not None


def jobs(args: argparse.Namespace) -> None:
    """Every non-local job of a successful run went through SLURM and sacct shows it COMPLETED."""
    log = parse_log(Path(args.log).read_text())
    if len(log["run_ids"]) != 1:
        fail(f"{args.log}: expected one 'SLURM run ID' line (is the executor slurm?), got {log['run_ids']}")
    run_id = log["run_ids"][0]
    rows = sacct(name=run_id)
    print(f"sacct --name {run_id} (the plugin names every job of a run after its run ID):")
    print_sacct(rows)
    by_id = {r["JobIDRaw"]: r for r in rows}
    submitted = [job for job, _ in log["submitted"]]
    n_remote = len(log["remote"]) + log["groups"]
    print(f"controller log: {len(log['remote'])} rule jobs + {log['groups']} group jobs "
          f"({len(log['members'])} rule jobs inside groups) sent to SLURM; "
          f"{len(log['local'])} local jobs: {sorted(set(log['local']))}")
    if not submitted:
        fail("no job was submitted to SLURM")
    if len(submitted) != n_remote:
        fail(f"{n_remote} non-local jobs in the log but {len(submitted)} sbatch submissions")
    missing = [j for j in submitted if j not in by_id]
    if missing:
        fail(f"sacct does not show submitted jobs {missing}")
    if set(by_id) != set(submitted):
        fail(f"sacct shows jobs the log does not: {sorted(set(by_id) - set(submitted))}")
    not_done = {j: by_id[j]["State"] for j in submitted if by_id[j]["State"] != "COMPLETED"}
    if not_done:
        fail(f"jobs not COMPLETED: {not_done}")
    for rule in sorted(set(log["remote"])):
        n_log = log["remote"].count(rule)
        n_slurm = sum(comment_rule(r["Comment"], rule) for r in rows)
        if n_log != n_slurm:
            fail(f"rule {rule}: {n_log} jobs in the log, {n_slurm} SLURM jobs with its comment")
    both = (set(log["remote"]) | set(log["members"])) & set(log["local"])
    if both:
        fail(f"rules run both locally and on SLURM: {sorted(both)}")
    print(f"OK: all {len(submitted)} SLURM jobs COMPLETED; rules on SLURM: "
          f"{sorted(set(log['remote']) | set(log['members']))}")


def failure(args: argparse.Namespace) -> None:
    """The killed job was retried, the killed retry reported with its SLURM log path, others finished."""
    text = Path(args.log).read_text()
    first, retry = args.killed
    rows = {r["JobIDRaw"]: r for r in sacct(jobs=[first, retry])}
    print("sacct of the two killed jobs:")
    print_sacct(list(rows.values()))
    for job in (first, retry):
        if rows.get(job, {}).get("State") != "FAILED":
            fail(f"job {job} (its step killed) should be FAILED, sacct says {rows.get(job)}")
    if rows[first]["Comment"] != rows[retry]["Comment"]:
        fail(f"job {retry} is not a retry of {first}: comments {rows[first]['Comment']!r} vs {rows[retry]['Comment']!r}")
    if "Trying to restart job" not in text:
        fail("the controller log does not show the killed job being restarted (retries)")
    logs = dict(parse_log(text)["submitted"])
    for job in (first, retry):
        path = logs.get(job)
        if not path:
            fail(f"the controller log has no submission line for SLURM job {job}")
        # A rule's failure reads "Error in rule X: message: SLURM-job 'N' failed, SLURM status is ...,
        # log: <path>"; a group job's "Error in group G ... log: <path>". Either way: the SLURM log path.
        reported = re.search(rf"^\s+log: (.*, )?{re.escape(path)} \(check log file", text, re.MULTILINE)
        if not reported:
            fail(f"no error report of job {job} names its SLURM log {path}")
        if not Path(path).is_file():
            fail(f"SLURM log {path} of failed job {job} was not kept")
        status = re.search(rf"SLURM-job '{job}' failed, SLURM status is: '(\w+)'", text)
        how = f"SLURM status {status.group(1)}" if status else "error"
        print(f"OK: job {job} reported ({how}) with its SLURM log {path}")
    print(f"OK: {rows[first]['Comment']}: attempt 1 (job {first}) retried as job {retry}; "
          f"the retry's failure reported")


def outputs(args: argparse.Namespace) -> None:
    """Output files of the jobs a dry run lists (one per line), to delete before the failure run."""
    for line in Path(args.log).read_text().splitlines():
        m = re.match(r"^\s*output: (.+)$", line)
        if m:
            for path in (p.strip() for p in m.group(1).split(", ")):
                if Path(path).is_absolute() or ".." in Path(path).parts:
                    fail(f"output {path!r} is outside the workflow copy; refusing to delete it")
                print(path)


# --- rerun ------------------------------------------------------------------------------------------
def snapshot(args: argparse.Namespace) -> None:
    """Modification times of every file the run wrote (to see later what a rerun redid)."""
    root = Path(args.root)
    stamps = {p.relative_to(root).as_posix(): p.stat().st_mtime_ns
              for tree in RESULT_TREES for p in (root / tree).rglob("*") if p.is_file()}
    Path(args.out).write_text(json.dumps(stamps, indent=1, sort_keys=True))
    print(f"snapshot of {len(stamps)} files -> {args.out}")


def unchanged(args: argparse.Namespace) -> None:
    """The rerun rewrote nothing that existed after the failed run; it only made what was missing."""
    root = Path(args.root)
    # Logs and benchmarks of the jobs the rerun runs are rewritten by design; results are what counts.
    before = {rel: ns for rel, ns in json.loads(Path(args.before).read_text()).items()
              if not any(fnmatch.fnmatch("/" + rel, p) for p in EXCLUDED)}
    since = int(float(args.since) * 1e9)
    finished = [rel for rel, ns in before.items() if ns >= since]
    redone = [rel for rel, ns in before.items()
              if not (root / rel).is_file() or (root / rel).stat().st_mtime_ns != ns]
    log = parse_log(Path(args.log).read_text())
    jobs_run = sorted(log["remote"] + log["members"] + [r for r in log["local"] if r != "all"])
    print(f"after the failed run: {len(before)} files, {len(finished)} of them written by it; "
          f"the rerun ran {len(jobs_run)} jobs: {jobs_run}")
    if not finished:
        fail("the failed run finished nothing, so the rerun check would prove nothing")
    if redone:
        fail(f"the rerun redid finished work: rewrote or removed {redone}")
    if args.killed_rule not in jobs_run:
        fail(f"the rerun did not run the killed rule {args.killed_rule}")
    print(f"OK: the rerun left all {len(before)} existing files alone ({len(finished)} from the failed run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("site-profile")
    p.add_argument("src"), p.add_argument("dst"), p.add_argument("--partition", required=True)
    p.add_argument("--account", required=True), p.add_argument("--mem-cap", type=int, required=True)
    p.add_argument("--max-threads", type=int, required=True)
    p.set_defaults(func=site_profile)
    p = sub.add_parser("compare")
    p.add_argument("a"), p.add_argument("b")
    p.set_defaults(func=compare)
    p = sub.add_parser("jobs")
    p.add_argument("log")
    p.set_defaults(func=jobs)
    p = sub.add_parser("failure")
    p.add_argument("log"), p.add_argument("killed", nargs=2)
    p.set_defaults(func=failure)
    p = sub.add_parser("outputs")
    p.add_argument("log")
    p.set_defaults(func=outputs)
    p = sub.add_parser("snapshot")
    p.add_argument("root"), p.add_argument("out")
    p.set_defaults(func=snapshot)
    p = sub.add_parser("unchanged")
    p.add_argument("root"), p.add_argument("before"), p.add_argument("log")
    p.add_argument("--since", required=True), p.add_argument("--killed-rule", required=True)
    p.set_defaults(func=unchanged)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
