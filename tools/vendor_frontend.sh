#!/bin/sh
# Refresh the viewer's vendored front-end libraries from the npm registry (`npm pack`: the
# published tarball, no install scripts run). A maintainer runs this by hand when upgrading
# (`make vendor`); CI never does: the files are committed under serve/static/vendor/.
set -eu
LEAFLET_VERSION="${LEAFLET_VERSION:-1.9.4}"
MARKERCLUSTER_VERSION="${MARKERCLUSTER_VERSION:-1.5.3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/serve/static/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fetch() {  # package version -> unpacked into $TMP/<package>/package
    mkdir -p "$TMP/$1"
    (cd "$TMP/$1" && npm pack --silent "$1@$2" >/dev/null && tar -xzf ./*.tgz)
}

fetch leaflet "$LEAFLET_VERSION"
rm -rf "$VENDOR/leaflet" && mkdir -p "$VENDOR/leaflet/images"
cp "$TMP/leaflet/package/dist/leaflet.js" "$TMP/leaflet/package/dist/leaflet.css" "$VENDOR/leaflet/"
cp "$TMP/leaflet/package/dist/images/"*.png "$VENDOR/leaflet/images/"
cp "$TMP/leaflet/package/LICENSE" "$VENDOR/leaflet/LICENSE"

fetch leaflet.markercluster "$MARKERCLUSTER_VERSION"
rm -rf "$VENDOR/leaflet.markercluster" && mkdir -p "$VENDOR/leaflet.markercluster"
cp "$TMP/leaflet.markercluster/package/dist/leaflet.markercluster.js" \
   "$TMP/leaflet.markercluster/package/dist/MarkerCluster.css" \
   "$TMP/leaflet.markercluster/package/dist/MarkerCluster.Default.css" "$VENDOR/leaflet.markercluster/"
cp "$TMP/leaflet.markercluster/package/MIT-LICENCE.txt" "$VENDOR/leaflet.markercluster/LICENSE"

cat > "$VENDOR/VERSIONS" <<NOTE
# Front-end libraries vendored from the npm registry by tools/vendor_frontend.sh (make vendor).
leaflet ${LEAFLET_VERSION} BSD-2-Clause https://www.npmjs.com/package/leaflet
leaflet.markercluster ${MARKERCLUSTER_VERSION} MIT https://www.npmjs.com/package/leaflet.markercluster
NOTE
echo "vendored into $VENDOR:"
cat "$VENDOR/VERSIONS"
