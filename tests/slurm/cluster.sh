#!/usr/bin/env bash
# A real single-node SLURM cluster on loopback, for nenbone's cluster test (tests/slurm/run_cluster_test.sh).
#
#   tests/slurm/cluster.sh start    install Debian's slurm-wlm, slurmdbd, munge and mariadb-server if missing,
#                                   then start munged, mariadbd, slurmdbd, slurmctld and slurmd
#   tests/slurm/cluster.sh status   show the daemons (by the PIDs start recorded) and the node
#   tests/slurm/cluster.sh env      print `export SLURM_CONF=...` (eval it to use sbatch/squeue/sacct by hand)
#   tests/slurm/cluster.sh stop     cancel this cluster's jobs, stop the daemons by their recorded PIDs
#
# Configs, state, database, logs and PID records live in $NENBONE_SLURM_DIR (default /tmp/nenbone-slurm);
# nothing is written to /etc. While the cluster runs, /run/munge holds munged's socket and
# /run/slurm/conf slurmd's configless link (removed by stop). Clients find the cluster through
# SLURM_CONF, which `start` prints. Needs root (the daemons run as root, munged as the munge user) and
# apt. Accounting: slurmdbd with a private MariaDB, so `sacct` works as on a production cluster.
# A failed start stops whatever it had started.
set -euo pipefail

DIR=${NENBONE_SLURM_DIR:-/tmp/nenbone-slurm}
CLUSTER=nenbone
ACCOUNT=nenbone           # accounting account the test submits under (slurm_account)
PARTITION=debug
MUNGE_SOCKET=/run/munge/munge.socket.2
RUN_CONF=/run/slurm/conf  # where a configless slurmd publishes its configuration (a symlink)
PIDS="$DIR/pids"          # lines: name pid starttime (field 22 of /proc/PID/stat, guards against PID reuse)
PACKAGES="slurm-wlm slurmdbd munge mariadb-server mariadb-client"
NEEDED="slurmctld slurmd slurmdbd sbatch squeue sacct sacctmgr sinfo munged mariadbd mariadb-install-db mariadb"

log() { printf '[cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- processes -----------------------------------------------------------------------------------
proc_state() {  # proc_state PID STARTTIME -> R/S/D/... ; "gone" when exited, reaped, a zombie or reused
  local pid=$1 start=$2 stat rest
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || { echo gone; return; }
  rest=${stat##*) }                          # fields after "(comm) ": state is field 3, starttime field 22
  set -- $rest
  if [ "${20}" != "$start" ]; then echo gone; return; fi
  if [ "$1" = Z ] || [ "$1" = X ]; then echo gone; return; fi   # a zombie has exited; kill -0 would say alive
  echo "$1"
}

starttime_of() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo "${20}"; }

record_pid() {  # record_pid NAME PIDFILE: wait for the daemon's own pid file, remember pid and start time
  local name=$1 pidfile=$2 pid
  for _ in $(seq 100); do
    if [ -s "$pidfile" ]; then pid=$(tr -dc 0-9 <"$pidfile"); [ -n "$pid" ] && [ -e "/proc/$pid" ] && break; fi
    sleep 0.1
  done
  [ -n "${pid:-}" ] && [ "$pid" -gt 1 ] && [ -e "/proc/$pid" ] || die "$name did not write $pidfile; see $DIR/log"
  echo "$name $pid $(starttime_of "$pid")" >>"$PIDS"
  log "$name started, pid $pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.2 s
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 5))); do timeout 5 "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "timed out after ${secs}s waiting for $what"; tail_logs; return 1
}

tail_logs() { local f; for f in "$DIR"/log/*; do [ -s "$f" ] && { echo "== $f"; tail -n 15 "$f"; }; done >&2 || true; }

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

pick_ports() {  # four consecutive free TCP ports on loopback, starting at NENBONE_SLURM_PORT_BASE (16817)
  local base=${NENBONE_SLURM_PORT_BASE:-16817} p ok
  for _ in $(seq 50); do
    ok=1; for p in $base $((base + 1)) $((base + 2)) $((base + 3)); do port_free "$p" || ok=0; done
    [ $ok = 1 ] && { echo "$base"; return; }
    base=$((base + 10))
  done
  die "no four free TCP ports found from ${NENBONE_SLURM_PORT_BASE:-16817}"
}

# --- install ---------------------------------------------------------------------------------------
install_packages() {
  local missing="" c
  for c in $NEEDED; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null || die "missing$missing and no apt-get to install $PACKAGES"
  log "installing $PACKAGES (missing:$missing)"
  # policy-rc.d exit 101 = "do not start services": apt must not start system-wide daemons for us.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  local rc=0
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends $PACKAGES >"${TMPDIR:-/tmp}/nenbone-slurm-apt.log" 2>&1 || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $PACKAGES \
      >"${TMPDIR:-/tmp}/nenbone-slurm-apt.log" 2>&1
  } || rc=$?
  [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail -n 20 "${TMPDIR:-/tmp}/nenbone-slurm-apt.log" >&2; die "apt-get install failed"; }
}

# --- configuration ---------------------------------------------------------------------------------
write_configs() {
  local base=$1 node
  node=$(slurmd -C | head -n 1)     # NodeName=<host> CPUs=.. Boards=.. SocketsPerBoard=.. ... RealMemory=..
  [[ $node == NodeName=* ]] || die "unexpected 'slurmd -C' output: $node"
  cat >"$DIR/etc/slurm.conf" <<EOF
# Written by tests/slurm/cluster.sh: one node on loopback, state and logs under $DIR.
ClusterName=$CLUSTER
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# A cancelled job gets SIGTERM, then SIGKILL after KillWait seconds.
KillWait=5
InactiveLimit=0
MinJobAge=300
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((base + 2))
JobCompType=jobcomp/none
# Configless: slurmd fetches this file from slurmctld and publishes it at /run/slurm/conf, where
# client commands inside jobs find it (the plugin's job step drops SLURM_CONF before its inner srun).
SlurmctldParameters=enable_configless
AccountingStoreFlags=job_comment
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((base + 2))
SlurmUser=root
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((base + 3))
StorageUser=slurm
StoragePass=nenbone-test-only
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$DIR/etc/slurmdbd.conf"   # slurmdbd refuses a readable config (it holds the DB password)
}

# --- daemons ---------------------------------------------------------------------------------------
start_munge() {
  # munged on its default socket: Slurm 22.05's client tools ignore AuthInfo=socket= for slurmdbd
  # connections (sacctmgr then fails with "Failed to access /run/munge/munge.socket.2").
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already runs on $MUNGE_SOCKET; using it (not ours: stop leaves it running)"
    return 0
  fi
  [ -s /etc/munge/munge.key ] || setpriv --reuid=munge --regid=munge --clear-groups mungekey --create
  install -d -o munge -g munge -m 0755 "$(dirname "$MUNGE_SOCKET")" "$DIR/munge"  # socket dir: world-executable
  setpriv --reuid=munge --regid=munge --clear-groups \
    munged --socket="$MUNGE_SOCKET" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" \
    || { cat "$DIR/munge/munged.log" >&2 2>/dev/null; die "munged failed to start"; }
  ln -sf "$DIR/munge/munged.log" "$DIR/log/munged.log"
  record_pid munged "$DIR/munge/munged.pid"
  wait_for 10 "munge" sh -c "munge -n | unmunge"
}

start_mariadb() {
  local port=$1
  mariadb-install-db --no-defaults --datadir="$DIR/db/data" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 \
    || { tail_logs; die "mariadb-install-db failed"; }
  setsid /usr/sbin/mariadbd --no-defaults --datadir="$DIR/db/data" --user=root \
    --socket="$DIR/db/mysqld.sock" --port="$port" --bind-address=127.0.0.1 \
    --pid-file="$DIR/run/mariadbd.pid" --log-error="$DIR/log/mariadbd.log" \
    --skip-log-bin --innodb-buffer-pool-size=64M --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1 &
  record_pid mariadbd "$DIR/run/mariadbd.pid"
  wait_for 30 "MariaDB" mariadb --no-defaults -S "$DIR/db/mysqld.sock" -uroot -e 'SELECT 1'
  mariadb --no-defaults -S "$DIR/db/mysqld.sock" -uroot -e "
    CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'nenbone-test-only';
    CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'nenbone-test-only';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (the SLURM daemons run as root here)"
  if [ -s "$PIDS" ] && [ "$(running_count)" -gt 0 ]; then die "already running from $DIR (stop it first)"; fi
  install_packages
  # Inside a job the plugin's `srun` runs without SLURM_CONF (its job step drops SLURM_* variables), so
  # it reads /etc/slurm/slurm.conf, else /run/slurm/conf/slurm.conf, which slurmd publishes in configless
  # mode. A system-wide slurm.conf or another configless slurmd would send it to the wrong cluster.
  [ ! -e /etc/slurm/slurm.conf ] || die "/etc/slurm/slurm.conf exists: jobs' inner srun would use it, not this test cluster"
  if [ -e "$RUN_CONF" ] && [[ "$(readlink -f "$RUN_CONF")" != "$DIR"/* ]]; then
    die "$RUN_CONF belongs to another slurmd ($(readlink -f "$RUN_CONF")); stop that cluster first"
  fi
  rm -rf "$DIR"; mkdir -p "$DIR"
  chmod 0755 "$DIR"                  # munged runs as the munge user and must reach $DIR/munge
  mkdir -p "$DIR"/{etc,state,spool,run,log,db}
  : >"$PIDS"
  trap 'log "start failed; stopping what it started"; stop || true' EXIT
  local base; base=$(pick_ports)
  write_configs "$base"
  export SLURM_CONF="$DIR/etc/slurm.conf"
  log "ports: slurmctld $base, slurmd $((base + 1)), slurmdbd $((base + 2)), mariadb $((base + 3))"

  start_munge
  start_mariadb $((base + 3))

  slurmdbd || { tail_logs; die "slurmdbd failed to start"; }   # reads slurmdbd.conf next to $SLURM_CONF
  record_pid slurmdbd "$DIR/run/slurmdbd.pid"
  wait_for 30 "slurmdbd" sacctmgr -n list cluster
  # The cluster must exist in the database before slurmctld registers with slurmdbd.
  sacctmgr -i add cluster "$CLUSTER" >/dev/null
  sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description=nenbone-test Organization=nenbone >/dev/null
  sacctmgr -i add user root Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null

  slurmctld -f "$SLURM_CONF" -c || { tail_logs; die "slurmctld failed to start"; }
  record_pid slurmctld "$DIR/run/slurmctld.pid"
  env -u SLURM_CONF slurmd --conf-server "127.0.0.1:$base" || { tail_logs; die "slurmd failed to start"; }
  record_pid slurmd "$DIR/run/slurmd.pid"
  wait_for 60 "the node to be idle" sh -c "sinfo -h -o %T | grep -qx idle"
  trap - EXIT
  log "cluster up: $(sinfo -h -o '%P %D %c CPUs %m MB %T' | head -n 1)"
  echo "export SLURM_CONF=$SLURM_CONF"
}

running_count() {
  local n=0 name pid st
  while read -r name pid st; do [ "$(proc_state "$pid" "$st")" != gone ] && n=$((n + 1)); done <"$PIDS"
  echo $n
}

stop_one() {  # stop_one NAME PID STARTTIME: SIGTERM, wait up to 15 s, then SIGKILL
  local name=$1 pid=$2 st=$3
  [[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || { log "refusing to signal pid '$pid' ($name)"; return 1; }
  [ "$(proc_state "$pid" "$st")" = gone ] && { log "$name (pid $pid) already gone"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 75); do [ "$(proc_state "$pid" "$st")" = gone ] && { log "$name (pid $pid) stopped"; return 0; }; sleep 0.2; done
  log "$name (pid $pid) ignored SIGTERM for 15 s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 25); do [ "$(proc_state "$pid" "$st")" = gone ] && return 0; sleep 0.2; done
  log "$name (pid $pid) still present after SIGKILL"; return 1
}

stop() {
  [ -s "$PIDS" ] || { log "nothing recorded in $PIDS; nothing to stop"; return 0; }
  export SLURM_CONF="$DIR/etc/slurm.conf"
  # Jobs of this cluster run under slurmstepd, which outlives slurmd: cancel them while slurmctld lives.
  if [ "$(running_count)" -gt 0 ] && timeout 10 squeue -h -o %i 2>/dev/null | grep -q .; then
    log "cancelling this cluster's jobs: $(squeue -h -o %i | tr '\n' ' ')"
    timeout 10 scancel --full --user=root 2>/dev/null || true
    wait_for 20 "jobs to end" sh -c '[ -z "$(squeue -h -o %i)" ]' || true
  fi
  local rc=0 name pid st
  # Reverse start order: slurmd, slurmctld, slurmdbd, mariadbd, munged.
  while read -r name pid st; do stop_one "$name" "$pid" "$st" || rc=1; done < <(tac "$PIDS")
  # slurmd leaves its configless symlink behind; remove it if it is ours.
  if [ -L "$RUN_CONF" ] && [[ "$(readlink "$RUN_CONF")" == "$DIR"/* ]]; then
    rm -f "$RUN_CONF"; rmdir /run/slurm 2>/dev/null || true
  fi
  [ $rc = 0 ] && : >"$PIDS"
  return $rc
}

status() {
  [ -s "$PIDS" ] || { echo "not running (no PIDs recorded in $PIDS)"; return 1; }
  local name pid st s down=0
  while read -r name pid st; do
    s=$(proc_state "$pid" "$st"); echo "$name pid $pid: $s"; [ "$s" = gone ] && down=1
  done <"$PIDS"
  export SLURM_CONF="$DIR/etc/slurm.conf"
  [ $down = 0 ] && { sinfo; squeue; }
  return $down
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$DIR/etc/slurm.conf" ;;
  *) echo "usage: $0 start|stop|status|env   (state in \$NENBONE_SLURM_DIR, default /tmp/nenbone-slurm)" >&2; exit 2 ;;
esac
