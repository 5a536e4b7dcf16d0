#!/usr/bin/env bash
# The HTML report in a real browser: Debian's chromium, headless, renders
# the demo's report at a desktop's width (1280 px) and a phone's (390 px)
# to screenshots: PNGs of that size, not blank, with the grid's success and
# failure-category colours and its duration trend in them; at 390 px the
# grid is scaled to fit (its right end, the trend, is on screen) and the
# page does not scroll sideways (measured in a copy of the page with a
# probe script, checked against a control that does overflow).  --dump-dom
# shows the expected sections, the grid before the causes, and no script.
# A report whose log text holds markup renders it as text.
# backends: sqlite postgresql
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
run "$DAGDOC" report --config "$TMP/demo/config.yaml" --store "$(store r)" --since 35d --format html \
	-o "$TMP/report.html" --no-record
expect_rc "report: exit 1 (failing)" 1

# ---- screenshots at a desktop's and a phone's width ---------------------------
# png.py check PNG W H MIN_SUCCESS MIN_DEPUPGRADE: the PNG is W x H, not nearly
# one colour, has at least that many pixels of the success (#2da44e) and the
# dependency_upgrade (#8250df) cells, and the duration trend (#0550ae) is
# drawn: prints the x of its rightmost pixel (the newest duration's dot).
# png.py corner PNG: the colour of pixel (5, 5) as hex.
cat >"$TMP/png.py" <<'PY'
import struct, sys, zlib
from collections import Counter

def rows(path, upto=None):
    """(width, each row as RGB(A) bytes), the PNG row filters undone"""
    data = open(path, "rb").read()
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
    assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, out = bytearray(stride), []
    for y in range(h if upto is None else upto):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append([bytes(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, out

if sys.argv[1] == "corner":
    print(rows(sys.argv[2], 6)[2][5][5].hex())
    sys.exit(0)
path, want_w, want_h, min_ok, min_dep = sys.argv[2], *map(int, sys.argv[3:])
w, h, px = rows(path)
assert (w, h) == (want_w, want_h), (w, h)
colours, trend_x, trend = Counter(), [], bytes.fromhex("0550ae")
for line in px:
    colours.update(line)
    trend_x += [x for x, p in enumerate(line) if p == trend]
top = colours.most_common(1)[0][1] / (w * h)
assert len(colours) > 50 and top < 0.95, ("nearly one colour", len(colours), top)
assert colours[bytes.fromhex("2da44e")] >= min_ok, ("success", colours[bytes.fromhex("2da44e")])
assert colours[bytes.fromhex("8250df")] >= min_dep, ("dependency_upgrade", colours[bytes.fromhex("8250df")])
assert len(trend_x) >= 6, ("the duration trend", len(trend_x))
print(max(trend_x))
PY
# desktop: cells of 16 x 16 px less their glyph; 38 success cells, 6 dependency_upgrade
chromium --window-size=1280,1200 --screenshot="$TMP/desk.png" "file://$TMP/report.html" >/dev/null
check "desktop screenshot: over 10 kB" test "$(stat -c %s "$TMP/desk.png")" -gt 10240
check "desktop screenshot: 1280 x 1200, the grid's colours and the trend drawn" \
	"$PY" "$TMP/png.py" check "$TMP/desk.png" 1280 1200 $((30 * 180)) $((5 * 180))
# phone: the grid scaled down to fit, its right end (the trend) on screen
chromium --window-size=390,1600 --screenshot="$TMP/phone.png" "file://$TMP/report.html" >/dev/null
check "phone screenshot: over 10 kB" test "$(stat -c %s "$TMP/phone.png")" -gt 10240
if xs=$("$PY" "$TMP/png.py" check "$TMP/phone.png" 390 1600 $((30 * 70)) $((5 * 70)) 2>"$TMP/png.err"); then
	_pass "phone screenshot: 390 x 1600, the grid's colours and the trend drawn"
	check "phone: the grid's right end (the trend's newest dot, x $xs) is on screen, not cut" \
		test "$xs" -ge 300 -a "$xs" -le 382
else
	_fail "phone screenshot: 390 x 1600, the grid's colours and the trend drawn" "$(cat "$TMP/png.err")"
fi
# No sideways scroll at 390 px: the page cannot measure itself (no script),
# so a copy gets a probe that paints a square green when the document is no
# wider than the window, red when it is; a control copy with a 600 px wide
# block must come out red.
probe='<script>var d=document.documentElement,m=document.createElement("div");'
probe+='m.style.cssText="position:fixed;left:0;top:0;width:40px;height:40px;background:"+'
probe+='(d.scrollWidth<=window.innerWidth?"#00ff00":"#ff0000");document.body.appendChild(m)</script>'
sed -e 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' -e "s|</body>|$probe</body>|" \
	"$TMP/report.html" >"$TMP/probe.html"
sed -e 's|<main>|<main><div style="width:600px;height:4px"></div>|' "$TMP/probe.html" >"$TMP/control.html"
corner() { "$PY" "$TMP/png.py" corner "$1"; }
chromium --window-size=390,900 --screenshot="$TMP/probe.png" "file://$TMP/probe.html" >/dev/null
chromium --window-size=390,900 --screenshot="$TMP/control.png" "file://$TMP/control.html" >/dev/null
eq "phone: no sideways scroll at 390 px (the probe is green)" "$(corner "$TMP/probe.png")" "00ff00"
eq "phone: the probe sees an overflow (control: red)" "$(corner "$TMP/control.png")" "ff0000"

# ---- the DOM as the browser built it -------------------------------------------
chromium --dump-dom "file://$TMP/report.html" >"$TMP/dom.html"
check "dom: dumped" test -s "$TMP/dom.html"
for want in '<section id="summary"><h2>Summary</h2>' '<table id="failures">' '<ul id="new-recurring">' \
	'<table id="fleet">' '<section class="dag" id="dag-demo-train_churn">' '<h3>runs × tasks</h3>' \
	'<svg class="grid"' '<b>checks</b>' '<b>fix</b>' '<b>evidence</b>' 'never ran (no task instance)' \
	'<g class="trend">' '>✓</text>' '>✕</text>'; do
	check "dom: has $want" grep -qF -- "$want" "$TMP/dom.html"
done
eq "dom: no script element" "$(grep -c '<script' "$TMP/dom.html")" "0"
eq "dom: 56 grid cells (14 runs + 3 tasks x 14 runs)" "$(grep -o '<rect ' "$TMP/dom.html" | wc -l)" "56"
check "dom: the grid comes before the causes" "$PY" -c '
import sys; d = open(sys.argv[1]).read(); assert -1 < d.index("<svg class=\"grid\"") < d.index("<div class=\"cause")' \
	"$TMP/dom.html"

# ---- markup in log text stays text ---------------------------------------------
f=$(grep -rl "AttributeError: 'DataFrame' object has no attribute 'append'" "$TMP/demo/logs" | sort | tail -1)
sed -i "s|AttributeError: 'DataFrame' object has no attribute 'append'|AttributeError: 'DataFrame' <script>document.title='pwned'</script>\"><img src=x onerror=alert(1)>|" "$f"
run "$DAGDOC" report --config "$TMP/demo/config.yaml" --store "$(store x)" --since 35d --format html \
	-o "$TMP/x.html" --no-record
expect_rc "hostile log: exit 1" 1
check "hostile log: the text is in the page, escaped" grep -qF '&lt;script&gt;document.title=' "$TMP/x.html"
chromium --dump-dom "file://$TMP/x.html" >"$TMP/xdom.html"
eq "hostile log: no script element in the DOM" "$(grep -c '<script' "$TMP/xdom.html")" "0"
eq "hostile log: no img element in the DOM" "$(grep -c '<img' "$TMP/xdom.html")" "0"
check "hostile log: the title was not changed" grep -q '<title>dagdoc report ' "$TMP/xdom.html"
finish
