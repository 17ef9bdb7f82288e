#!/usr/bin/env bash
# Cleanup that runs however a script ends: when it finishes, when a command fails (set -e), on Ctrl-C (SIGINT to the
# terminal's whole foreground process group) and on `kill` (SIGTERM to the script alone).
#
#   source ops/lib/cleanup.sh
#   on_exit "rm -rf '$folder'"     # steps run in reverse order of registration, each whatever the others do
#   run_child dotnet test ...       # a long-running command, stopped with everything it started when the script ends
#
# Long-running commands go through run_child: bash runs a trap only once the foreground command has finished, so a
# script killed while it waits on a plain command would leave that command running. run_child starts the command in a
# process group of its own, in the background, and waits for it (a wait that a signal interrupts at once); on exit
# the whole group is stopped: the command and every process it started (a service, its test hosts, wrk). Ctrl-C in a
# terminal reaches the script (the foreground group), whose exit stops the command's group.

[ -n "${_CLEANUP_LOADED:-}" ] && return 0
_CLEANUP_LOADED=1

# Builds run by these scripts leave no build server behind (MSBuild's nodes, the compiler server): they would outlive
# the script by design. An incremental build loses little by it.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false
_cleanup_steps=()

on_exit() { _cleanup_steps+=("$1"); }

_run_cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  local i
  for (( i=${#_cleanup_steps[@]}-1; i>=0; i-- )); do
    eval "${_cleanup_steps[i]}"
  done
  exit "$status"
}

trap _run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Stops a process group (TERM, then KILL after 10 s) and waits until none of it is left.
stop_group() {
  local group=$1 i
  kill -TERM -- "-$group" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 -- "-$group" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$group" 2>/dev/null
  for i in $(seq 1 50); do
    kill -0 -- "-$group" 2>/dev/null || return 0
    sleep 0.1
  done
}

# Runs a command in a process group of its own and waits for it; returns its exit status.
run_child() {
  start_child "$@"
  wait "$_child"
}

# Whether a child is still running (a child that has exited stays a zombie until waited for, and `kill -0` still
# finds a zombie).
child_alive() {
  [ -r "/proc/$1/stat" ] && [ "$(sed -E 's/.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Starts a command in a process group of its own, in the background; its pid (and group) is in $_child. Job control
# (set -m) gives the job its own group; unlike a plain `&` in a script, it leaves the job's SIGINT as it was (a script's
# background jobs otherwise ignore SIGINT, and so would everything they start, test hosts and their scripts included).
start_child() {
  set -m
  "$@" &
  _child=$!
  set +m
  on_exit "stop_group $_child"
}
