#!/usr/bin/env bash
# Vendors uPlot, the dashboard's charting library, at a pinned version into
# runtime/dashboard/assets/uplot (embedded in the binary: nothing is built or
# fetched at run time). Run it to change the version; commit the result.
set -euo pipefail
VERSION="${UPLOT_VERSION:-1.6.32}"
SHA256="${UPLOT_SHA256:-4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d}"
dest="$(cd "$(dirname "$0")/.." && pwd)/runtime/dashboard/assets/uplot"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "uplot@$VERSION" >/dev/null)
echo "$SHA256  $work/uplot-$VERSION.tgz" | sha256sum -c - >/dev/null || {
	echo "uplot-$VERSION.tgz does not have the pinned sha256; set UPLOT_SHA256 after checking the new version" >&2
	exit 1
}
tar xzf "$work/uplot-$VERSION.tgz" -C "$work"
mkdir -p "$dest"
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" "$work/package/LICENSE" "$dest/"
echo "$VERSION" > "$dest/VERSION"
echo "vendored uPlot $VERSION into $dest"
