#!/usr/bin/env bash
# nenbone on a real SLURM: the whole workflow through profiles/slurm on a single-node cluster started
# here (tests/slurm/cluster.sh), checked against a local run. `make test-slurm` runs it; so does
# `pytest -m slurm` (tests/test_slurm.py). Needs root; exits 77 (skip) with the reason where it is not.
#
#  1. start the cluster (munged, MariaDB, slurmdbd, slurmctld, slurmd on loopback)
#  2. a site copy of profiles/slurm: partition and account set as a user would (and mem_mb capped to
#     the node, max-threads = its CPUs)
#  3. local reference run: `snakemake --cores 2` in a fresh copy of the workflow
#  4. cluster run: `snakemake --workflow-profile <site copy>` in a fresh copy at the same path; assert it
#     succeeds, every non-local job is a COMPLETED job in sacct, results/ is byte-identical to step 3
#  5. failure: delete the outputs of some rules and all downstream (what --forcerun would redo), run
#     again, kill one job's step mid-run (the job is retried), then kill the retry's step too:
#     Snakemake reports it with its SLURM log path and exits non-zero
#  6. rerun: completes, rewrites nothing the failed run finished, results identical to step 3
# The cluster is stopped on every exit (trap). Each Snakemake run is wrapped in `timeout`.
#
# Settings (environment): NENBONE_SLURM_RUN_TIMEOUT (s per Snakemake run, default 300),
# NENBONE_SLURM_KILL_RULE (default analyse_christie), NENBONE_SLURM_FORCERUN (default
# "analyse_christie analyse_mayo"), NENBONE_SLURM_KEEP=1 keeps the temporary folder,
# NENBONE_WORKFLOW_DIR (default: this repository).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKFLOW=${NENBONE_WORKFLOW_DIR:-$REPO}
VENV=${NENBONE_VENV:-$REPO/.venv}
SNAKEMAKE=("$VENV/bin/python" -m snakemake)
PY="$VENV/bin/python"
RUN_TIMEOUT=${NENBONE_SLURM_RUN_TIMEOUT:-300}
KILL_RULE=${NENBONE_SLURM_KILL_RULE:-analyse_christie}
FORCERUN=${NENBONE_SLURM_FORCERUN:-analyse_christie analyse_mayo}
INIT_SECONDS=2     # --slurm-init-seconds-before-status-checks: the plugin's 40 s default dominates a small run

say() { printf '\n=== [%s +%ss] %s\n' "$(date +%T)" "$SECONDS" "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

# --- can this machine run the daemons at all? (the only reasons to skip) ---------------------------
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the SLURM test starts munged, MariaDB, slurmdbd, slurmctld and slurmd, which needs root (uid $(id -u))"
  exit 77
fi
if [ "$(uname -s)" != Linux ] || [ ! -r /proc/self/stat ]; then
  echo "SKIP: the SLURM test needs Linux with /proc (found $(uname -s))"
  exit 77
fi
[ -x "$VENV/bin/python" ] || die "no virtual environment at $VENV (run: make venv)"
[ -f "$WORKFLOW/Snakefile" ] || die "no Snakefile in $WORKFLOW"

export PATH="$VENV/bin:$PATH"   # as with an activated venv; sbatch passes it on to the jobs
T=$(mktemp -d "${TMPDIR:-/tmp}/nenbone-slurm-test.XXXXXX")
chmod 755 "$T"
mkdir -p "$T/logs"
# The copies import their own src/, not the repository's (the Snakefile puts it first on PYTHONPATH,
# which sbatch passes on to the jobs).
export NENBONE_SLURM_DIR="$T/cluster"
declare -a TIMINGS=()
step_start=$SECONDS
timed() { TIMINGS+=("$(printf '%4ss  %s' $((SECONDS - step_start)) "$1")"); step_start=$SECONDS; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  jobs -p | xargs -r kill 2>/dev/null   # a Snakemake still running in the background (failure step)
  say "stopping the cluster"
  bash "$HERE/cluster.sh" stop || { echo "FAIL: the cluster did not stop cleanly" >&2; [ $rc = 0 ] && rc=1; }
  if [ ${#TIMINGS[@]} -gt 0 ]; then
    echo; echo "timings:"; printf '  %s\n' "${TIMINGS[@]}"; echo "  total ${SECONDS}s"
  fi
  rm -rf "$T/cluster/db/data"           # 100+ MB of MariaDB files, never needed afterwards
  if [ $rc = 0 ] && [ "${NENBONE_SLURM_KEEP:-0}" != 1 ]; then
    rm -rf "$T"
  else
    echo "kept for inspection: $T (logs/: Snakemake output of each run; cluster/log: daemon logs)"
  fi
  [ $rc = 0 ] && echo "PASS: SLURM integration test" || echo "FAIL: SLURM integration test (exit $rc)" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fresh_copy() {  # the workflow's tracked and new files, without .venv, results or caches, at $T/wf
  rm -rf "$T/wf"
  mkdir -p "$T/wf"
  if git -C "$WORKFLOW" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$WORKFLOW" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$T/wf" -xf -
  else
    tar -C "$WORKFLOW" --exclude=./.venv --exclude=./results --exclude=./.snakemake \
      --exclude=./resources/synthetic --exclude=.git -cf - . | tar -C "$T/wf" -xf -
  fi
  rm -rf "$T/wf/results" "$T/wf/resources/synthetic" "$T/wf/.snakemake"
}

run_snakemake() {  # run_snakemake LOGNAME ARGS...: in $T/wf, under timeout, output to $T/logs/LOGNAME
  local name=$1 rc=0; shift
  (cd "$T/wf" && timeout --kill-after=20 "$RUN_TIMEOUT" "${SNAKEMAKE[@]}" "$@") >"$T/logs/$name" 2>&1 || rc=$?
  [ $rc = 124 ] && { tail -n 30 "$T/logs/$name"; die "$name: Snakemake still running after ${RUN_TIMEOUT}s (timeout)"; }
  return $rc
}

show_tail() { echo "--- last lines of $T/logs/$1:"; tail -n "${2:-40}" "$T/logs/$1"; }

# --- 1. cluster ---------------------------------------------------------------------------------------
say "starting a single-node SLURM cluster in $NENBONE_SLURM_DIR"
eval "$(bash "$HERE/cluster.sh" start)"
export SLURM_CONF
CPUS=$(scontrol show node -o | sed -n 's/.*CPUTot=\([0-9]*\).*/\1/p' | head -n 1)
MEM=$(scontrol show node -o | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)
echo "node: $CPUS CPUs, $MEM MB"
timed "start cluster (install if needed, 5 daemons, node idle)"

# --- 2. site profile ------------------------------------------------------------------------------------
say "site copy of profiles/slurm"
"$PY" "$HERE/checks.py" site-profile "$REPO/profiles/slurm/config.yaml" "$T/profile" \
  --partition debug --account nenbone --mem-cap "$MEM" --max-threads "$CPUS"
CLUSTER_ARGS=(--workflow-profile "$T/profile" --slurm-init-seconds-before-status-checks "$INIT_SECONDS")

# --- 3. local reference run ------------------------------------------------------------------------------
say "local reference run: snakemake --cores 2"
fresh_copy
run_snakemake local.log --cores 2 || { show_tail local.log; die "the local run failed"; }
mkdir -p "$T/local"
for tree in results resources/synthetic; do
  [ -e "$T/wf/$tree" ] && mkdir -p "$T/local/$(dirname "$tree")" && mv "$T/wf/$tree" "$T/local/$tree"
done
timed "local run (--cores 2)"

# --- 4. cluster run ---------------------------------------------------------------------------------------
say "cluster run: snakemake ${CLUSTER_ARGS[*]}"
fresh_copy
run_snakemake cluster.log "${CLUSTER_ARGS[@]}" || { show_tail cluster.log 80; die "the cluster run failed"; }
timed "cluster run (whole workflow through SLURM)"
say "SLURM accounting of the cluster run"
"$PY" "$HERE/checks.py" jobs "$T/logs/cluster.log"
say "results: local run vs cluster run"
"$PY" "$HERE/checks.py" compare "$T/local" "$T/wf"
timed "checks (sacct, hashes)"

# --- 5. a job killed mid-run ----------------------------------------------------------------------------
# Both kills end the job FAILED. (A whole-job `scancel JOB` is not used: sacct then says "CANCELLED by
# <uid>", which plugin 2.8.0 does not recognise, so Snakemake would wait for that job forever.)
wait_running() {  # wait_running COMMENT_REGEX EXCLUDED_ID: print the first RUNNING job whose comment matches
  local re=$1 not=$2 id
  for _ in $(seq 1500); do
    id=$(squeue -h -t RUNNING -o '%i %k' | awk -v re="$re" -v not="$not" '$1 != not && $2 ~ re {print $1; exit}')
    [ -n "$id" ] && { echo "$id"; return 0; }
    kill -0 "$SM_PID" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
wait_step() {  # wait_step JOB: until the job's first step (the rule, run by srun) is running
  for _ in $(seq 300); do
    squeue -h -s -j "$1" -o %i 2>/dev/null | grep -qx "$1.0" && return 0
    sleep 0.1
  done
  die "job $1 never started its step $1.0"
}

say "failure: kill a running $KILL_RULE job's step twice (attempt and retry)"
# Take the workflow back to "half done": delete what `--forcerun $FORCERUN` would redo (those rules'
# outputs and everything downstream), then run again and kill a job on the way.
read -r -a FORCE <<<"$FORCERUN"
(cd "$T/wf" && "${SNAKEMAKE[@]}" -n --forcerun "${FORCE[@]}") >"$T/logs/failure-dryrun.log" 2>&1 \
  || { show_tail failure-dryrun.log; die "dry run with --forcerun $FORCERUN failed"; }
mapfile -t REDO < <("$PY" "$HERE/checks.py" outputs "$T/logs/failure-dryrun.log")
[ ${#REDO[@]} -gt 0 ] || die "--forcerun $FORCERUN selects no jobs"
echo "deleting ${#REDO[@]} outputs of $FORCERUN and downstream: ${REDO[*]}"
(cd "$T/wf" && rm -rf -- "${REDO[@]}")
FAIL_START=$(date +%s.%N)
sleep 0.01
(cd "$T/wf" && exec timeout --kill-after=20 "$RUN_TIMEOUT" "${SNAKEMAKE[@]}" "${CLUSTER_ARGS[@]}") \
  >"$T/logs/failure.log" 2>&1 &
SM_PID=$!
# the rule's own job, or the group job that contains it (comment rule_<group>_<rules...>)
FIRST=$(wait_running "^rule_(.*_)?${KILL_RULE}(_.*)?\$" none) \
  || { show_tail failure.log; die "no $KILL_RULE job started on SLURM"; }
COMMENT=$(squeue -h -j "$FIRST" -o %k)
wait_step "$FIRST"
echo "job $FIRST ($COMMENT) is running the rule; cancelling its step: scancel $FIRST.0"
scancel "$FIRST.0" || die "scancel $FIRST.0 failed (did the job end before it could be killed?)"
RETRY=$(wait_running "^${COMMENT}\$" "$FIRST") \
  || { show_tail failure.log; die "job $FIRST was not retried (retries in profiles/slurm)"; }
wait_step "$RETRY"
echo "retry of $COMMENT is job $RETRY; sending SIGKILL to its step's tasks (scancel --signal=KILL $RETRY.0), as the OOM killer would"
# Through SLURM, never by raw PIDs: slurmstepd delivers the signal to that step's tasks only.
scancel --signal=KILL "$RETRY.0" || die "scancel --signal=KILL $RETRY.0 failed"
rc=0; wait "$SM_PID" || rc=$?
[ $rc = 124 ] && die "the failed run did not end within ${RUN_TIMEOUT}s"
[ $rc != 0 ] || { show_tail failure.log; die "Snakemake exited 0 although job $RETRY was killed"; }
echo "Snakemake exited $rc; its report of the retry:"
grep -B2 -A1 "/$RETRY.log (check log" "$T/logs/failure.log" | sed 's/^/  | /' || true
"$PY" "$HERE/checks.py" failure "$T/logs/failure.log" "$FIRST" "$RETRY"
timed "failure run (kill, retry, kill, report)"

# --- 6. rerun ---------------------------------------------------------------------------------------------
say "rerun after the failure: snakemake ${CLUSTER_ARGS[*]}"
"$PY" "$HERE/checks.py" snapshot "$T/wf" "$T/after-failure.json"
run_snakemake rerun.log "${CLUSTER_ARGS[@]}" || { show_tail rerun.log 80; die "the rerun failed"; }
"$PY" "$HERE/checks.py" unchanged "$T/wf" "$T/after-failure.json" "$T/logs/rerun.log" \
  --since "$FAIL_START" --killed-rule "$KILL_RULE"
"$PY" "$HERE/checks.py" jobs "$T/logs/rerun.log"
"$PY" "$HERE/checks.py" compare "$T/local" "$T/wf" | tail -n 1
timed "rerun (only what the failure left undone) and checks"
