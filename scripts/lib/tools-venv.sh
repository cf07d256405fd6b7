# shellcheck shell=bash
# scripts/lib/tools-venv.sh: the Python tools of the checks (scripts/check-openapi,
# check-kubernetes, check-status-page), each set in a venv of its own under BAZAR_TOOLS_DIR
# (default ~/.cache/bazar-tools), installed from PyPI once per set of pinned requirements.
# Sourced, never run:
#
#   source "$repo/scripts/lib/tools-venv.sh"
#   tools_venv openapi-venv "$work/requirements.txt"    # makes or reuses it; sets TOOLS_VENV
#   "$TOOLS_VENV/bin/python" …
#
# What it may touch: only the named venv under BAZAR_TOOLS_DIR (made, or reused when a stamp file
# says it holds exactly these requirements). It sets TOOLS_VENV and no shell option.

if ! (return 0 2>/dev/null); then
    echo "tools-venv.sh is sourced by the check scripts, not run" >&2
    exit 2
fi

TOOLS_VENV=""

# $1: the venv's name under BAZAR_TOOLS_DIR; $2: a pip requirements file with pinned versions.
tools_venv() {
    local dir=${BAZAR_TOOLS_DIR:-$HOME/.cache/bazar-tools}
    TOOLS_VENV=$dir/$1
    local stamp
    stamp="$TOOLS_VENV/.requirements-$(sha256sum "$2" | cut -c1-16)"
    [[ -f $stamp ]] && return 0
    echo "setting up $TOOLS_VENV (PyPI)"
    mkdir -p "$dir"
    [[ -x $TOOLS_VENV/bin/python ]] || python3 -m venv "$TOOLS_VENV" || return 1
    "$TOOLS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$2" || return 1
    touch "$stamp"
}
