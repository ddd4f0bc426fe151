#!/usr/bin/env bash
# run-files.sh: a SIZE_MB (default 2048) file through the storage target: presigned PUT streamed to the
# blob store and GET of the stripped URL, with curl, timed, the server's RSS growth recorded, and `cp` of
# the same file on the same disk as the ceiling. Usage: bench/run-files.sh [SIZE_MB]
# Also: small-file throughput (GET of a 4 KiB public object and of an image variant) with wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-2048}
source bench/lib.sh
scripts/build.sh Release >/dev/null
DATA=$(mktemp -d "$WORK/files.XXXX")
build/basalt serve --listen 127.0.0.1:18096 --data "$DATA" --log-level warn >/dev/null 2>&1 & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
wait_http http://127.0.0.1:18096/healthz
U=http://127.0.0.1:18096
PK=$(sed -n 's/.*"publishableKey": "\(.*\)".*/\1/p' "$DATA/bootstrap.json")
SK=$(sed -n 's/.*"secretKey": "\(.*\)".*/\1/p' "$DATA/bootstrap.json")
enterprise $U "$DATA"
SRC="$WORK/big.$$.bin"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$SRC"
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA" "$SRC" "$SRC.copy" "$SRC.down"' EXIT
sync
rss() { awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/$PID/status"; }
secs() { python3 -c "import time; print(time.time())"; }
mbps() { python3 -c "print(f'{$SIZE_MB / ($2 - $1):.0f}')"; }

machine
echo "# file of $SIZE_MB MiB (random bytes), data directory on $(df --output=source "$WORK" | tail -1)"
t0=$(secs); cp "$SRC" "$SRC.copy"; sync; t1=$(secs)
echo "cp_then_sync                         MB/s=$(mbps "$t0" "$t1")"
rm -f "$SRC.copy"

URL=$(curl -sf -H "X-API-Key: $SK" -H 'Content-Type: application/json' \
  -d '{"filename":"big.bin","contentType":"application/octet-stream"}' "$U/v1/files/presigned-url" |
  sed -n 's/.*"url":"\([^"]*\)".*/\1/p' | sed 's/\\u0026/\&/g')
RSS0=$(rss)
t0=$(secs)
curl -sf -T "$SRC" -H "Content-Type: application/octet-stream" "$URL" >/dev/null
sync; t1=$(secs)
RSS1=$(awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$PID/status")
echo "upload_put_streamed_then_sync        MB/s=$(mbps "$t0" "$t1") rss_before=${RSS0}MB peak_rss=${RSS1}MB"
t0=$(secs)
curl -sf -o "$SRC.down" "${URL%%\?*}"
t1=$(secs)
RSS2=$(awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$PID/status")
cmp -s "$SRC" "$SRC.down" && same=identical || same=DIFFERENT
echo "download_get_stripped_url            MB/s=$(mbps "$t0" "$t1") peak_rss=${RSS2}MB bytes=$same"
rm -f "$SRC.down"

# small objects: a 4 KiB public file and a cached image variant, GET with wrk
SMALL=$(curl -sf -H "X-API-Key: $SK" -H 'Content-Type: application/json' \
  -d '{"filename":"small.txt","contentType":"text/plain","visibility":"public"}' "$U/v1/files/presigned-url" |
  sed -n 's/.*"url":"\([^"]*\)".*/\1/p' | sed 's/\\u0026/\&/g')
head -c 4096 /dev/urandom | curl -sf -X PUT -H 'Content-Type: text/plain' --data-binary @- "$SMALL" >/dev/null
bench storage_get_4KiB "${SMALL%%\?*}"
node -e "import('./tests/api/png.mjs').then(m => process.stdout.write(m.makePng(1200, 800, (x, y) => [x % 256, y % 256, 128])))" > "$WORK/img.$$.png"
IMG=$(curl -sf -H "X-API-Key: $SK" -H 'Content-Type: application/json' \
  -d '{"filename":"photo.png","contentType":"image/png","visibility":"public"}' "$U/v1/files/presigned-url" |
  sed -n 's/.*"url":"\([^"]*\)".*/\1/p' | sed 's/\\u0026/\&/g')
curl -sf -X PUT -H 'Content-Type: image/png' --data-binary @"$WORK/img.$$.png" "$IMG" >/dev/null
rm -f "$WORK/img.$$.png"
KEY=${IMG#*/storage/}; KEY=${KEY%%\?*}
t0=$(secs); curl -sf -o /dev/null "$U/img/fit-in/300x300/filters:format(webp)/$KEY"; t1=$(secs)
echo "image_variant_first_1200x800_png     ms=$(python3 -c "print(f'{($t1 - $t0) * 1000:.0f}')") (resize + encode + cache write)"
bench image_variant_cached_300px_webp "$U/img/fit-in/300x300/filters:format(webp)/$KEY"
echo "server_peak_rss_mb $(peak_rss_mb $PID)"
