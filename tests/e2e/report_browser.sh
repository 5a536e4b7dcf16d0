#!/usr/bin/env bash
# The HTML report in a real browser: Debian's chromium, headless, renders
# the demo's report at a phone's width to a screenshot (a PNG of size,
# not blank, with the grid's success and failure-category colours in it) and
# --dump-dom shows the expected sections and no script.  A report whose
# log text holds markup renders it as text.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	_fail "chromium is installed" "$CHROMIUM is missing; 'make deps' installs Debian's chromium"
	finish
fi
PY=/usr/bin/python3
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
chromium() {   # ARGS...: headless, offline, a throwaway profile
	local profile
	profile=$(mktemp -d "$TMP/profile.XXXXXX")
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" 2>>"$TMP/chromium.err"
}

"$PY" "$ROOT/examples/demo/make_demo.py" "$TMP/demo" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
run "$DAGDOC" report --config "$TMP/demo/config.yaml" --store "$TMP/r.db" --since 35d --format html \
	-o "$TMP/report.html" --no-record
expect_rc "report: exit 1 (failing)" 1

# ---- screenshot at a phone's width ----------------------------------------
chromium --window-size=412,2400 --screenshot="$TMP/shot.png" "file://$TMP/report.html" >/dev/null
check "screenshot: written" test -s "$TMP/shot.png"
check "screenshot: over 10 kB" test "$(stat -c %s "$TMP/shot.png")" -gt 10240
check "screenshot: not blank, the grid's colours drawn" "$PY" - "$TMP/shot.png" <<'PY'
import struct, sys, zlib
from collections import Counter
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    if typ == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", data[pos + 8:pos + 8 + n])
    elif typ == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
assert (w, h) == (412, 2400), (w, h)
assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours = bytearray(stride), Counter()
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):     # undo the PNG row filters
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        colours[bytes(line[x:x + 3])] += 1
    prev = line
top = colours.most_common(1)[0][1] / (w * h)
assert len(colours) > 50 and top < 0.95, ("nearly one colour", len(colours), top)
cell = 16 * 16
# success cells (#2da44e): 8 runs x 2 tasks + the run row; dependency_upgrade cells (#8250df): 6
assert colours[bytes.fromhex("2da44e")] >= 20 * cell, colours[bytes.fromhex("2da44e")]
assert colours[bytes.fromhex("8250df")] >= 5 * cell, colours[bytes.fromhex("8250df")]
PY

# ---- the DOM as the browser built it -------------------------------------------
chromium --dump-dom "file://$TMP/report.html" >"$TMP/dom.html"
check "dom: dumped" test -s "$TMP/dom.html"
for want in '<section id="summary"><h2>Summary</h2>' '<table id="failures">' '<ul id="new-recurring">' \
	'<table id="fleet">' '<section class="dag" id="dag-demo-train_churn">' '<h3>runs × tasks</h3>' \
	'<svg class="grid"' '<b>checks</b>' '<b>fix</b>' '<b>evidence</b>'; do
	check "dom: has $want" grep -qF -- "$want" "$TMP/dom.html"
done
eq "dom: no script element" "$(grep -c '<script' "$TMP/dom.html")" "0"
eq "dom: 56 grid cells (14 runs + 3 tasks x 14 runs)" "$(grep -o '<rect ' "$TMP/dom.html" | wc -l)" "56"

# ---- markup in log text stays text ---------------------------------------------
f=$(grep -rl "AttributeError: 'DataFrame' object has no attribute 'append'" "$TMP/demo/logs" | sort | tail -1)
sed -i "s|AttributeError: 'DataFrame' object has no attribute 'append'|AttributeError: 'DataFrame' <script>document.title='pwned'</script>\"><img src=x onerror=alert(1)>|" "$f"
run "$DAGDOC" report --config "$TMP/demo/config.yaml" --store "$TMP/x.db" --since 35d --format html \
	-o "$TMP/x.html" --no-record
expect_rc "hostile log: exit 1" 1
check "hostile log: the text is in the page, escaped" grep -qF '&lt;script&gt;document.title=' "$TMP/x.html"
chromium --dump-dom "file://$TMP/x.html" >"$TMP/xdom.html"
eq "hostile log: no script element in the DOM" "$(grep -c '<script' "$TMP/xdom.html")" "0"
eq "hostile log: no img element in the DOM" "$(grep -c '<img' "$TMP/xdom.html")" "0"
check "hostile log: the title was not changed" grep -q '<title>dagdoc report ' "$TMP/xdom.html"
finish
