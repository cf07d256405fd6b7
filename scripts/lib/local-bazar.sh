# shellcheck shell=bash
# scripts/lib/local-bazar.sh: a fresh local Bazar for the checks (scripts/check-openapi,
# scripts/check-postman). Sourced, never run:
#
#   source "$repo/scripts/lib/local-bazar.sh"
#   LOCAL_BAZAR_NAME=check-example                        # the prefix of its messages
#   local_bazar_traps cleanup                             # cleanup calls local_bazar_finish
#   local_bazar_make_dir check-example                    # $LOCAL_BAZAR_DIR, a new temporary directory
#   local_bazar_up "$bin_dir" "$port" "$timeout" [more `bazar up` options] || exit 1
#   … requests to $LOCAL_BAZAR_BASE_URL …
#
# What it may touch:
#   - processes: only the `bazar up` that local_bazar_start started (by its PID) and the services
#     that this `bazar up` launched: a PID from <data>/pids/<member> ("<member pid> <owner pid>")
#     counts only while its owner is our `bazar up` and its command line names our data directory.
#     Nothing is ever stopped by name.
#   - files: the temporary directory that local_bazar_make_dir makes (the caller may put its own
#     files there too); it holds up.log (the output of `bazar up`) and data/ (databases, logs/, pids/).
#     local_bazar_finish removes it after a success (unless told to keep it) and keeps it after a
#     failure, saying where the logs are.
#   - environment: it reads BAZAR_ADMIN_TOKEN, BAZAR_INTERNAL_TOKEN and the other BAZAR_
#     variables as `bazar up` does; local_bazar_clean_env unsets BAZAR_ variables when asked.
#     Its own state is in the LOCAL_BAZAR_ variables below, set when it is sourced (never taken
#     from the environment) and not exported.
#   - traps: local_bazar_traps sets the EXIT, INT and TERM traps (the caller's cleanup on EXIT).
#
# It works under `set -Eeuo pipefail` (every variable it reads is set here first; a function
# that fails returns non-zero after saying why, and the caller decides) and sets no shell option.
# Linux only: ports come from /proc/net/tcp{,6}, process states from /proc/PID/stat.

if ! (return 0 2>/dev/null); then # only a sourced file may return here
    echo "local-bazar.sh is sourced by the check scripts, not run" >&2
    exit 2
fi
[[ -z ${LOCAL_BAZAR_LOADED:-} ]] || return 0
LOCAL_BAZAR_LOADED=1

# shellcheck disable=SC2034 # state for the callers
LOCAL_BAZAR_LIB=${BASH_SOURCE[0]}
LOCAL_BAZAR_NAME=local-bazar                       # the prefix of the messages (the caller sets it)
LOCAL_BAZAR_UP_PID=""                              # the `bazar up` started here
LOCAL_BAZAR_DIR=""                                 # the directory local_bazar_make_dir made
LOCAL_BAZAR_DATA=""                                # its data/: databases, logs/, pids/
LOCAL_BAZAR_LOG=""                                 # its up.log: what `bazar up` printed
LOCAL_BAZAR_FRONT_PORT=""
LOCAL_BAZAR_BASE_URL=""                            # http://127.0.0.1:<front port>

local_bazar_say() { printf '%s: %s\n' "$LOCAL_BAZAR_NAME" "$*"; }

# The caller's cleanup function on EXIT; Ctrl-C and SIGTERM exit (130, 143), which runs it.
local_bazar_traps() {
    # shellcheck disable=SC2064 # the function's name, now
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Unsets every BAZAR_ variable but the named ones: the default configuration, whatever the caller's
# shell holds (a BAZAR_MAX_BODY_BYTES, a BAZAR_POSTGRES_URL).
local_bazar_clean_env() {
    local name keep
    while IFS= read -r name; do
        for keep in "$@"; do [[ $name == "$keep" ]] && continue 2; done
        unset "$name"
    done < <(compgen -e | grep '^BAZAR_' || true)
}

# A random token: $1, a dash and 32 hexadecimal digits.
local_bazar_token() {
    printf '%s-%s\n' "$1" "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
}

# Prints the first of 5 (or $1) consecutive ports that no TCP socket uses on this machine (any
# address, any state, as /proc/net/tcp and tcp6 list them), picked at random below the ephemeral
# range, so that no outgoing connection takes one of them before `bazar up` binds it. (It cannot
# reserve them: `bazar up` refuses to start when one is taken meanwhile, naming the holder.)
local_bazar_free_ports() {
    local count=${1:-5} file address low=32768 high first width try i
    local -A used=()
    for file in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $file ]] || continue
        while read -r _ address _; do
            [[ $address == *:* ]] || continue # the header line
            used[$((16#${address##*:}))]=1
        done <"$file"
    done
    if ((${#used[@]} == 0)) && [[ ! -r /proc/net/tcp ]]; then
        local_bazar_say "cannot read /proc/net/tcp to find free ports" >&2
        return 1
    fi
    read -r low _ 2>/dev/null </proc/sys/net/ipv4/ip_local_port_range || low=32768
    if ((low >= 21000)); then first=20000 high=$((low - count)); else first=41000 high=59000; fi
    width=$((high - first))
    for ((try = 0; try < 500; try++)); do
        local base=$((first + (RANDOM * 32768 + RANDOM) % width))
        for ((i = 0; i < count; i++)); do
            [[ -z ${used[$((base + i))]:-} ]] || continue 2
        done
        echo "$base"
        return 0
    done
    local_bazar_say "no $count consecutive free ports between $first and $high" >&2
    return 1
}

# Whether process $1 runs (a zombie, which `kill -0` still finds, does not).
local_bazar_alive() {
    local line
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    line=${line##*) }
    [[ ${line%% *} != Z ]]
}

# Whether process $1 is a member that our `bazar up` launched: its command line names our data
# directory (a PID from a PID file, checked again before a signal, in case it was reused).
local_bazar_is_member() {
    [[ -n $LOCAL_BAZAR_DATA && -r /proc/$1/cmdline ]] || return 1
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$LOCAL_BAZAR_DATA"* ]]
}

# The PIDs of our `bazar up`'s running members whose names match the glob $1 (default: all; e.g.
# 'catalog-*'), from <data>/pids/<member>: those whose owner is our `bazar up`.
# From another process (sourcing resets the LOCAL_BAZAR_ variables, so they are set after it):
#   bash -c 'source "$0" && LOCAL_BAZAR_DATA=$1 LOCAL_BAZAR_UP_PID=$2 && local_bazar_member_pids "$3"' \
#       "$LOCAL_BAZAR_LIB" "$LOCAL_BAZAR_DATA" "$LOCAL_BAZAR_UP_PID" 'catalog-*'
local_bazar_member_pids() {
    local pattern=${1:-*} file pid owner
    [[ -n $LOCAL_BAZAR_UP_PID && -d $LOCAL_BAZAR_DATA/pids ]] || return 0
    for file in "$LOCAL_BAZAR_DATA"/pids/$pattern; do
        [[ -f $file ]] || continue
        pid="" owner=""
        read -r pid owner <"$file" || [[ -n $owner ]] || continue # (a last line without a newline)
        [[ $owner == "$LOCAL_BAZAR_UP_PID" ]] || continue
        if local_bazar_alive "$pid" && local_bazar_is_member "$pid"; then
            printf '%s %s\n' "$pid" "${file##*/}"
        fi
    done
    return 0
}

# Makes a new temporary directory, ${TMPDIR:-/tmp}/$1.XXXXXX, for the run: LOCAL_BAZAR_DIR.
# Call it in the script itself (not in a $(…) subshell, which would lose the variables).
local_bazar_make_dir() {
    LOCAL_BAZAR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    LOCAL_BAZAR_DATA=$LOCAL_BAZAR_DIR/data
    LOCAL_BAZAR_LOG=$LOCAL_BAZAR_DIR/up.log
}

# Starts `bazar up --fresh` in the background: binaries from $1 (BAZAR_BIN_DIR, exported), in
# LOCAL_BAZAR_DIR (outside any checkout, so that `bazar up` builds nothing), on 127.0.0.1 with the
# front end on port $2 and the members on the ports after it, waiting at most $3 seconds for its
# services; the other arguments go to `bazar up` as they are (e.g. --keep-going).
local_bazar_start() {
    local bin_dir=$1 port=$2 timeout=$3 name
    shift 3
    if [[ -z $LOCAL_BAZAR_DIR ]]; then
        local_bazar_say "local_bazar_start needs local_bazar_make_dir first" >&2
        return 1
    fi
    for name in bazar bazar-front bazar-catalog bazar-order; do
        if [[ ! -x $bin_dir/$name ]]; then
            local_bazar_say "$bin_dir/$name is missing: build first (swift build), or set BAZAR_BIN_DIR" >&2
            return 1
        fi
    done
    export BAZAR_BIN_DIR=$bin_dir
    # shellcheck disable=SC2034 # for the callers
    LOCAL_BAZAR_FRONT_PORT=$port
    LOCAL_BAZAR_BASE_URL=http://127.0.0.1:$port
    mkdir -p "$LOCAL_BAZAR_DATA"
    (cd "$LOCAL_BAZAR_DIR" && exec "$bin_dir/bazar" up --fresh --data-dir "$LOCAL_BAZAR_DATA" --host 127.0.0.1 \
        --front-port "$port" --ready-timeout "$timeout" "$@") >"$LOCAL_BAZAR_LOG" 2>&1 &
    LOCAL_BAZAR_UP_PID=$!
    local_bazar_say "bazar up --fresh on $LOCAL_BAZAR_BASE_URL (PID $LOCAL_BAZAR_UP_PID; binaries $bin_dir; data $LOCAL_BAZAR_DATA)"
}

# The status code of a GET of $1 (000 when nothing answered within 2 s): curl, else node.
local_bazar_http_status() {
    if command -v curl >/dev/null 2>&1; then
        curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
    else
        node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
            .then((r) => console.log(r.status), () => console.log("000"))' "$1"
    fi
}

# Waits at most $1 seconds until `bazar up` says every service is ready ("Bazar is up") and
# GET /ready answers 200. Fails (with the end of up.log) when `bazar up` exits first (a port that
# is taken, a service that exits) or time runs out.
local_bazar_wait_ready() {
    local timeout=$1 started=$SECONDS
    while :; do
        if grep -q "^Bazar is up" "$LOCAL_BAZAR_LOG" 2>/dev/null \
            && [[ $(local_bazar_http_status "$LOCAL_BAZAR_BASE_URL/ready") == 200 ]]; then
            local_bazar_say "ready after $((SECONDS - started)) s"
            return 0
        fi
        if ! local_bazar_alive "$LOCAL_BAZAR_UP_PID"; then
            tail -n 20 "$LOCAL_BAZAR_LOG" >&2 || true
            local_bazar_say "bazar up exited before the system was ready (its output above)" >&2
            return 1
        fi
        if ((SECONDS - started >= timeout)); then
            tail -n 20 "$LOCAL_BAZAR_LOG" >&2 || true
            local_bazar_say "$LOCAL_BAZAR_BASE_URL was not ready within $timeout s (bazar up's output above)" >&2
            return 1
        fi
        sleep 0.2
    done
}

# Starts a fresh Bazar and waits until it is ready (local_bazar_start, local_bazar_wait_ready):
# binaries from $1, the front end on port $2 (empty: the first of 5 consecutive free ports,
# local_bazar_free_ports; if `bazar up` then finds one taken meanwhile, it starts nothing and this
# tries another block, three times at most), at most $3 seconds to be ready; the other arguments
# go to `bazar up`.
local_bazar_up() {
    local bin_dir=$1 port=$2 timeout=$3 try
    shift 3
    for try in 1 2 3; do
        local pick=$port
        if [[ -z $pick ]]; then pick=$(local_bazar_free_ports 5) || return 1; fi
        local_bazar_start "$bin_dir" "$pick" "$timeout" "$@" || return 1
        local_bazar_wait_ready "$timeout" && return 0
        [[ -z $port && $try -lt 3 ]] && grep -q "nothing started; free the ports" "$LOCAL_BAZAR_LOG" || return 1
        wait "$LOCAL_BAZAR_UP_PID" 2>/dev/null || true
        LOCAL_BAZAR_UP_PID=""
        local_bazar_say "a port was taken meanwhile: another block of ports" >&2
    done
    return 1
}

# Stops what local_bazar_start started: SIGTERM to `bazar up` (which stops its services, each
# with a grace period), SIGKILL after 30 s; then SIGKILL to any member that outlived it.
# Idempotent.
local_bazar_stop() {
    [[ -n $LOCAL_BAZAR_UP_PID ]] || return 0
    local members pid _name
    members=$(local_bazar_member_pids '*')
    if local_bazar_alive "$LOCAL_BAZAR_UP_PID"; then
        kill -TERM "$LOCAL_BAZAR_UP_PID" 2>/dev/null || true
        for _ in $(seq 150); do
            local_bazar_alive "$LOCAL_BAZAR_UP_PID" || break
            sleep 0.2
        done
        if local_bazar_alive "$LOCAL_BAZAR_UP_PID"; then
            local_bazar_say "bazar up (PID $LOCAL_BAZAR_UP_PID) did not stop within 30 s: killing it and its services" >&2
            kill -KILL "$LOCAL_BAZAR_UP_PID" 2>/dev/null || true
        fi
    fi
    while read -r pid _name; do
        [[ -n $pid ]] || continue
        if local_bazar_alive "$pid" && local_bazar_is_member "$pid"; then
            local_bazar_say "$_name (PID $pid) outlived bazar up: killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <<<"$members"
    wait "$LOCAL_BAZAR_UP_PID" 2>/dev/null || true
    LOCAL_BAZAR_UP_PID=""
}

# For the EXIT trap: stops everything (local_bazar_stop), then after a success ($1 = 0) removes
# the directory (unless $2 = 1: keep it), after a failure keeps it and shows the last errors of
# the services' logs and the end of up.log.
local_bazar_finish() {
    local status=$1 keep=${2:-0}
    local_bazar_stop
    [[ -n $LOCAL_BAZAR_DIR && -d $LOCAL_BAZAR_DIR ]] || return 0
    if [[ $status == 0 && $keep != 1 ]]; then
        rm -rf "$LOCAL_BAZAR_DIR"
        return 0
    fi
    if [[ $status != 0 ]]; then
        local errors
        errors=$(grep -h -E "(^| )level=(error|critical) " "$LOCAL_BAZAR_DATA"/logs/*.log 2>/dev/null | tail -n 15 | cut -c1-400 || true)
        if [[ -n $errors ]]; then
            local_bazar_say "the last errors in the services' logs:" >&2
            printf '%s\n' "$errors" >&2
        fi
        if [[ -s $LOCAL_BAZAR_LOG ]]; then
            echo "--- the end of $LOCAL_BAZAR_LOG:" >&2
            tail -n 15 "$LOCAL_BAZAR_LOG" >&2 || true
        fi
    fi
    local_bazar_say "kept $LOCAL_BAZAR_DIR (bazar up: $LOCAL_BAZAR_LOG; services: $LOCAL_BAZAR_DATA/logs/)"
}
