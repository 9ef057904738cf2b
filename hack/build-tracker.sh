#!/usr/bin/env bash
# Minifies the tracker's scripts (runtime/tracker/src) into the files the
# collector embeds and serves (runtime/tracker/dist): t.js, the extensions
# x.js, tcf.js and h.js, and one file per browser pixel bridge. esbuild is pinned in
# go.mod as a tool, so every machine produces the same bytes and `make verify`
# can tell when the committed output is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

src=runtime/tracker/src
out=runtime/tracker/dist

rm -rf "$out"
go tool esbuild \
	"t=$src/tracker.js" \
	"x=$src/x.js" \
	"tcf=$src/tcf.js" \
	"h=$src/h.js" \
	"pixels/meta=$src/pixels/meta.js" \
	"pixels/google=$src/pixels/google.js" \
	"pixels/pinterest=$src/pixels/pinterest.js" \
	"pixels/tiktok=$src/pixels/tiktok.js" \
	--outdir="$out" \
	--minify \
	--target=es2017 \
	--charset=utf8 \
	--legal-comments=none \
	--log-level=warning

# The collector fills these placeholders in; each must survive minification
# exactly once.
check() {
	local count
	count=$(grep -o "\"$2\"" "$out/$1" | wc -l)
	if [ "$count" -ne 1 ]; then
		echo "build-tracker: $out/$1 holds the placeholder \"$2\" $count times, want 1" >&2
		exit 1
	fi
}
check t.js __TS_CFG__
check x.js __TS_BRIDGES__
