#!/usr/bin/env bash
# jupyter_server's own test suite, from the sdist of the installed version, run twice: without
# jupyter_share (the baseline) and with it enabled in every server the tests start (issue 11).
# Prints the tests that pass without the extension and fail with it; exits 1 if there are any.
#
#   tests/upstream/run_jupyter_server_suite.sh [pytest selection...]
#       default selection: tests/auth tests/services tests/test_serverapp.py tests/extension
#
# Runs with the `python` on PATH (the environment jupyter_share is installed in), and installs
# the test extra of jupyter_server there (pytest-timeout, flaky, ...; pre-commit left out).
# The two runs go side by side (most of their time is spent waiting on kernels and sockets);
# a test that fails only with jupyter_share is run once more with it, to tell flaky ones.
# Environment: JUPYTER_SHARE_UPSTREAM_CACHE: where the sdist is kept (default ~/.cache/...);
# JUPYTER_SHARE_UPSTREAM_KEEP=1: keep the work directory (logs, results) for a look;
# JUPYTER_SHARE_UPSTREAM_SERIAL=1: one run after the other.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${JUPYTER_SHARE_UPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jupyter_share_upstream}
selection=("$@")
[ ${#selection[@]} -gt 0 ] || selection=(tests/auth tests/services tests/test_serverapp.py tests/extension)
start=$(date +%s)
step() { echo "=== $* ($(( $(date +%s) - start ))s)"; }

version=$(python -c 'from importlib.metadata import version; print(version("jupyter_server"))')
sdist=$cache/jupyter_server-$version.tar.gz
step "jupyter_server $version: the sdist"
if [ ! -f "$sdist" ]; then
    mkdir -p "$cache"
    # Only jupyter_server as source: its build dependencies (to read its metadata) may be wheels.
    python -m pip download -q --no-deps --no-binary jupyter_server --dest "$cache" "jupyter_server==$version"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/jupyter_server_suite.XXXXXX")
if [ "${JUPYTER_SHARE_UPSTREAM_KEEP:-}" = 1 ]; then echo "work directory: $work"; else trap 'rm -rf "$work"' EXIT; fi
tar -xzf "$sdist" -C "$work"
tree=$work/jupyter_server-$version
# The tests import `jupyter_server` from the tree's root first: leave only the installed one.
rm -rf "$tree/jupyter_server"

step "jupyter_server's test extra"
python - "$tree/PKG-INFO" > "$work/test-requirements.txt" <<'EOF'
import sys
from email.parser import Parser
from packaging.requirements import Requirement

for line in Parser().parsestr(open(sys.argv[1]).read()).get_all("Requires-Dist"):
    req = Requirement(line)
    if req.marker and req.marker.evaluate({"extra": "test"}) and not req.marker.evaluate({"extra": ""}):
        req.marker = None
        if req.name != "pre-commit":  # the linters' runner: no test uses it
            print(req)
EOF
python -m pip install -q -r "$work/test-requirements.txt"

export PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH}
cd "$tree"

# run NAME with|without TESTS...: pytest on TESTS, results in $work/NAME.{json,log}. Nothing of
# a run lands in the real home or data dir (jupyter_share's store defaults to
# JUPYTER_DATA_DIR/jupyter_share/share.db; pytest-jupyter gives most tests their own, too).
run() {
    local name=$1 mode=$2 rc=0
    shift 2
    mkdir -p "$work/$name-home"
    HOME=$work/$name-home JUPYTER_DATA_DIR=$work/$name-home/data JUPYTER_CONFIG_DIR=$work/$name-home/config \
    JUPYTER_RUNTIME_DIR=$work/$name-home/runtime JUPYTER_SHARE_UPSTREAM=$mode JUPYTER_SHARE_UPSTREAM_OUT=$work/$name.json \
        python -m pytest -p share_plugin -p no:cacheprovider -o addopts= -q -rfE --tb=short --show-capture=no \
        --strict-markers --color=no --basetemp="$work/$name-tmp" "$@" > "$work/$name.log" 2>&1 || rc=$?
    echo "$name: $(tail -n 1 "$work/$name.log")"
    if [ $rc -gt 1 ]; then  # not "some tests failed": the run itself went wrong
        tail -n 50 "$work/$name.log"; echo "pytest ($name) exited with $rc"; return 2
    fi
}

step "pytest ${selection[*]}: without and with jupyter_share"
failed=
if [ "${JUPYTER_SHARE_UPSTREAM_SERIAL:-}" = 1 ]; then
    run without without "${selection[@]}" || failed=1
else
    run without without "${selection[@]}" & baseline=$!
fi
run with with "${selection[@]}" || failed=1
[ -z "${baseline:-}" ] || wait "$baseline" || failed=1
[ -z "$failed" ] || exit 2

python "$here/share_plugin.py" differ "$work/without.json" "$work/with.json" > "$work/differ.txt"
if [ -s "$work/differ.txt" ]; then
    step "once more with jupyter_share: the $(wc -l < "$work/differ.txt") tests that failed only with it"
    mapfile -t differ < "$work/differ.txt"
    run rerun with "${differ[@]}" || exit 2
fi

step "compare"
rc=0
python "$here/share_plugin.py" compare "$work/without.json" "$work/with.json" "$work/rerun.json" || rc=$?
if [ $rc -ne 0 ]; then
    echo; echo "=== failures with jupyter_share, when run again (short tracebacks)"
    [ ! -f "$work/rerun.log" ] || sed -n "/= FAILURES =/,/= short test summary/p" "$work/rerun.log"
fi
step "done"
exit $rc
