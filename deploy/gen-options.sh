#!/usr/bin/env bash
# The configuration reference, made from the option tables in the code:
# the README's two tables (between <!-- options:broker:begin/end --> and
# <!-- options:bridge:begin/end -->) and the example config files
# deploy/eventflow-broker.conf.example and deploy/eventflow-bridge.conf.example,
# each printed by the binaries' --print-options. Run it after adding or
# changing an option; --check (the ctest options_reference) writes nothing
# and fails, with the difference, when what is committed is not what the
# binaries print now.
# usage: deploy/gen-options.sh [--check] [BIN_DIR]   (BIN_DIR: build/bin)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi
bin="${1:-$root/build/bin}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# the README with the lines between the markers of one binary replaced by
# a file's lines; each marker must be there exactly once
splice () {
    local readme="$1" name="$2" table="$3" begin end
    begin="<!-- options:$name:begin -->"
    end="<!-- options:$name:end -->"
    if [ "$(grep -cxF "$begin" "$readme")" != 1 ] ||
       [ "$(grep -cxF "$end" "$readme")" != 1 ]; then
        echo "gen-options: README.md needs one '$begin' and one '$end' line" >&2
        exit 1
    fi
    awk -v begin="$begin" -v end="$end" -v table="$table" '
        $0 == begin { print; while ((getline l < table) > 0) print l; skip = 1; next }
        $0 == end   { skip = 0 }
        !skip       { print }' "$readme"
}

cp "$root/README.md" "$tmp/README.md"
for name in broker bridge; do
    prog="$bin/eventflow-$name"
    [ -x "$prog" ] || { echo "gen-options: no $prog (build first)" >&2; exit 1; }
    "$prog" --print-options md >"$tmp/$name.md"
    "$prog" --print-options conf >"$tmp/eventflow-$name.conf.example"
    splice "$tmp/README.md" "$name" "$tmp/$name.md" >"$tmp/README.next"
    mv "$tmp/README.next" "$tmp/README.md"
done

files=(README.md eventflow-broker.conf.example eventflow-bridge.conf.example)
dest () { [ "$1" = README.md ] && echo "$root/README.md" || echo "$root/deploy/$1"; }
if [ "$check" = 1 ]; then
    rc=0
    for f in "${files[@]}"; do
        if ! diff -u "$(dest "$f")" "$tmp/$f" >&2 2>/dev/null; then
            [ -f "$(dest "$f")" ] || echo "gen-options: $(dest "$f") is missing" >&2
            rc=1
        fi
    done
    [ "$rc" = 0 ] || echo "gen-options: the configuration reference is not what the binaries print: run deploy/gen-options.sh and commit" >&2
    exit "$rc"
fi
for f in "${files[@]}"; do
    cp "$tmp/$f" "$(dest "$f")"
done
echo "gen-options: wrote README.md, deploy/eventflow-broker.conf.example, deploy/eventflow-bridge.conf.example"
