#!/usr/bin/env bash
# Classifies the 100 real logs of ../shared/real-logs/cases/*.log and
# compares the category with index.jsonl (success -> none).  Prints the
# accuracy per category and overall; fails when the overall accuracy drops
# below MIN_ACCURACY or when a `success` case gets a failure category with
# confidence >= 0.5.  The patterns are NOT tuned to these files: they are a
# measurement of how the library does on logs it was not written from.
. "$(dirname "$0")/lib.sh"
REAL="${REAL_LOGS:-$SHARED/real-logs}"
# Measured 2026-11-22 with the built-in library: 100/100.  A few points
# of slack for pattern edits; a drop below this is a regression.
MIN_ACCURACY=0.95

if [ ! -f "$REAL/index.jsonl" ]; then
	_fail "real logs present" "no $REAL/index.jsonl (set REAL_LOGS or SHARED)"
	finish
fi

run "$DAGDOC" classify --format json "$REAL"/cases/*.log
if [ "$rc" = 2 ]; then
	_fail "classify the real logs" "exit 2" "${errout:0:600}"
	finish
fi
printf '%s\n' "$out" >"$TMP/real.jsonl"

/usr/bin/python3 - "$REAL/index.jsonl" "$TMP/real.jsonl" "$MIN_ACCURACY" <<'EOF'
import collections, json, os, sys
index = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    index[d["id"]] = d
got = {}
for line in open(sys.argv[2]):
    d = json.loads(line)
    got[os.path.basename(d["input"])[:3]] = d
per = collections.defaultdict(lambda: [0, 0])
misses, bad_success = [], []
for cid, case in sorted(index.items()):
    want = "none" if case["category"] == "success" else case["category"]
    d = got.get(cid)
    if d is None:
        misses.append("%s: no result" % cid)
        per[want][1] += 1
        continue
    per[want][1] += 1
    if d["category"] == want:
        per[want][0] += 1
    else:
        misses.append("%s: %s, wanted %s (pattern %s, confidence %.2f)" % (cid, d["category"], want, d["pattern"], d["confidence"]))
    if case["category"] == "success" and d["category"] not in ("none", "unknown") and d["confidence"] >= 0.5:
        bad_success.append("%s: success classified as %s/%s at %.2f" % (cid, d["category"], d["pattern"], d["confidence"]))
ok = sum(v[0] for v in per.values())
n = sum(v[1] for v in per.values())
for cat in sorted(per):
    c, t = per[cat]
    print("# %-20s %3d/%-3d %5.1f%%" % (cat, c, t, 100.0 * c / t))
acc = ok / n if n else 0.0
print("# overall              %3d/%-3d %5.1f%%" % (ok, n, 100.0 * acc))
for m in misses:
    print("#   miss %s" % m)
thr = float(sys.argv[3])
if acc >= thr:
    print("ok - real logs: overall accuracy %.1f%% >= %.0f%%" % (100 * acc, 100 * thr))
else:
    print("not ok - real logs: overall accuracy %.1f%% < %.0f%%" % (100 * acc, 100 * thr))
if bad_success:
    print("not ok - real logs: success cases classified as failures")
    for b in bad_success:
        print("    " + b)
else:
    print("ok - real logs: no success case gets a failure category with confidence >= 0.5")
sys.exit(1 if acc < thr or bad_success else 0)
EOF
py_rc=$?
[ "$py_rc" = 0 ] || _failed=$((_failed + 1))
finish
