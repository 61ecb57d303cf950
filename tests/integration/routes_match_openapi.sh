#!/usr/bin/env bash
# routes_match_openapi.sh BRIDGE_BINARY OPENAPI_FILE
#
# Contract check between eventflow-bridge and schemas/openapi.yaml: the set
# of METHOD PATH pairs the bridge serves (`BRIDGE_BINARY --list-routes`, one
# `METHOD /path/{param}` line per route) must equal the set of operations
# under `paths:` in the OpenAPI file. Path parameter names do not matter
# (every `{...}` is compared as `{}`). It also checks that every JSON Schema
# in the `json/` folder next to OPENAPI_FILE parses and has `$id` and
# `title` (with jq; skipped with a note when jq is not installed).
#
# Needs only bash, awk, sed, sort, comm (and jq when present), so it runs on
# a minimal Debian. Relies on the layout rule stated at the top of
# openapi.yaml: path keys indented 2 spaces, operations indented 4 spaces.
# Prints the differences and ends with `N passed, M failed`; exits 0 when the
# check passed, 1 when it failed, 2 on a usage error.

set -u
export LC_ALL=C

if [ "$#" -ne 2 ]; then
    echo "usage: $0 BRIDGE_BINARY OPENAPI_FILE" >&2
    exit 2
fi
bridge=$1
openapi=$2
failures=0

fail () {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/routes_match_openapi.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Every `{name}` becomes `{}`; trailing blanks and CRs go.
normalise () {
    sed -e 's/\r$//' -e 's/[[:space:]]*$//' -e 's/{[^}]*}/{}/g'
}

# ------------------------------------------------------------ OpenAPI side
# Inside the top-level `paths:` block: a line indented exactly 2 spaces is
# a path key, one indented exactly 4 spaces an operation when its key is an
# HTTP method (path-level keys such as `parameters:` are skipped).
extract_openapi () {
    awk '
        { sub(/\r$/, "") }
        /^paths:[[:space:]]*(#.*)?$/ { inpaths = 1; next }
        inpaths && /^[^[:space:]#]/ { inpaths = 0 }
        !inpaths { next }
        /^  [^[:space:]#]/ {
            p = substr($0, 3)
            sub(/[[:space:]]+#.*$/, "", p)
            sub(/:[[:space:]]*$/, "", p)
            gsub(/^["\047]|["\047]$/, "", p)
            path = p
            next
        }
        /^    [a-z]+:[[:space:]]*(#.*)?$/ {
            m = $0
            sub(/^    /, "", m)
            sub(/:.*$/, "", m)
            if (m ~ /^(get|put|post|delete|options|head|patch|trace)$/ && path != "")
                print toupper(m) " " path
        }
    ' "$1"
}

if [ ! -r "$openapi" ]; then
    fail "cannot read OpenAPI file '$openapi'"
else
    extract_openapi "$openapi" | normalise | sort -u > "$tmp/openapi.txt"
    if [ ! -s "$tmp/openapi.txt" ]; then
        fail "no operations found under paths: in $openapi (layout rule broken?)"
    fi
fi

# ------------------------------------------------------------ bridge side
timeout_cmd=
if command -v timeout > /dev/null 2>&1; then
    timeout_cmd="timeout 30"
fi
: > "$tmp/bridge.txt"
if [ ! -x "$bridge" ] && ! command -v "$bridge" > /dev/null 2>&1; then
    fail "bridge binary '$bridge' not found or not executable"
else
    # shellcheck disable=SC2086
    $timeout_cmd "$bridge" --list-routes < /dev/null > "$tmp/bridge.raw" 2> "$tmp/bridge.err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "'$bridge --list-routes' exited with status $rc"
        sed -e 's/^/    stderr: /' "$tmp/bridge.err" | head -n 20
    fi
    # Keep only `METHOD /path` lines; anything else is reported, not compared.
    normalise < "$tmp/bridge.raw" | grep -E '^[A-Z]+ /' | sort -u > "$tmp/bridge.txt"
    normalise < "$tmp/bridge.raw" | grep -vE '^([A-Z]+ /|$)' > "$tmp/bridge.other"
    if [ -s "$tmp/bridge.other" ]; then
        echo "note: ignored bridge output lines that are not 'METHOD /path':"
        sed -e 's/^/    /' "$tmp/bridge.other" | head -n 20
    fi
    if [ ! -s "$tmp/bridge.txt" ]; then
        fail "'$bridge --list-routes' printed no routes"
    fi
fi

# ------------------------------------------------------------ compare
if [ -s "$tmp/openapi.txt" ] && [ -s "$tmp/bridge.txt" ]; then
    comm -23 "$tmp/bridge.txt" "$tmp/openapi.txt" > "$tmp/only_bridge"
    comm -13 "$tmp/bridge.txt" "$tmp/openapi.txt" > "$tmp/only_openapi"
    n_bridge=$(wc -l < "$tmp/bridge.txt")
    n_openapi=$(wc -l < "$tmp/openapi.txt")
    if [ -s "$tmp/only_bridge" ] || [ -s "$tmp/only_openapi" ]; then
        fail "routes differ (bridge $n_bridge, openapi $n_openapi; parameter names ignored)"
        if [ -s "$tmp/only_bridge" ]; then
            echo "  served by the bridge, missing from $openapi:"
            sed -e 's/^/    + /' "$tmp/only_bridge"
        fi
        if [ -s "$tmp/only_openapi" ]; then
            echo "  in $openapi, not served by the bridge:"
            sed -e 's/^/    - /' "$tmp/only_openapi"
        fi
    else
        echo "ok: the bridge serves exactly the $n_openapi operations of $openapi"
    fi
fi

# ------------------------------------------------------------ JSON Schemas
schema_dir=$(dirname -- "$openapi")/json
if ! command -v jq > /dev/null 2>&1; then
    echo "note: jq not installed; skipped the JSON Schema parse check of $schema_dir"
elif [ ! -d "$schema_dir" ]; then
    fail "no JSON Schema folder $schema_dir"
else
    n_json=0
    bad_json=0
    for f in "$schema_dir"/*.json; do
        [ -e "$f" ] || continue
        n_json=$((n_json + 1))
        if ! jq empty "$f" > /dev/null 2> "$tmp/jq.err"; then
            echo "  does not parse: $f: $(head -n 1 "$tmp/jq.err")"
            bad_json=$((bad_json + 1))
        elif ! jq -e 'type == "object" and (."$id" | type) == "string"
                      and (.title | type) == "string"' "$f" > /dev/null; then
            echo "  lacks a string \$id or title: $f"
            bad_json=$((bad_json + 1))
        fi
    done
    if [ "$n_json" -eq 0 ]; then
        fail "no JSON Schema files in $schema_dir"
    elif [ "$bad_json" -ne 0 ]; then
        fail "$bad_json of $n_json JSON Schema files in $schema_dir are not valid"
    else
        echo "ok: all $n_json JSON Schema files in $schema_dir parse and have \$id and title"
    fi
fi

# ------------------------------------------------------------ verdict
if [ "$failures" -eq 0 ]; then
    echo "1 passed, 0 failed"
    exit 0
fi
echo "0 passed, 1 failed"
exit 1
