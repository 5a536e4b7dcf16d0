#!/usr/bin/env bash
# Classifies the real failure logs of ../shared/real-logs (both batches:
# index.jsonl and index-batch2.jsonl) and scores them against their labels:
#   category  the cause (`cause_category`; a `success` case must be "none")
#   stage     where it is labelled (parse / schedule / run / teardown)
#   entity    where it is labelled: one of the failure's entities names it
# and prints the calibration of the confidences (bucket -> share right).
# Fails when an accuracy drops below its floor, when a failure is called
# "none", or when a success gets a failure category with confidence >= 0.5.
# The corpus lives beside the repository; without it this test is skipped
# (DAGDOC_REQUIRE_SHARED=1 makes that a failure, as CI does).
. "$(dirname "$0")/lib.sh"
REAL="${REAL_LOGS:-$SHARED/real-logs}"
need_shared "real logs" "$REAL/index.jsonl"
# Floors: measured on 2026-12-07 with every case passing; a drop below one
# is a regression.  The blind figures live in the session notes, not here.
# Two excerpts are right by no rule: 122 and 147 are three and eleven lines
# cut before any exception ("Failed to submit flow run ... to infrastructure"
# plus one frame; sqlalchemy frames with no exception line), and their
# labels come from the threads' discussions, not from the text.  Entities:
# batch 2 labels are sentences about components ("Prefect KubernetesWorker
# service account"), which no entity of a log names.
MIN_CATEGORY=0.98
MIN_STAGE=1.0
MIN_ENTITY=0.68

indexes=("$REAL/index.jsonl")
[ -f "$REAL/index-batch2.jsonl" ] && indexes+=("$REAL/index-batch2.jsonl")
files=()
for idx in "${indexes[@]}"; do
	while read -r f; do files+=("$REAL/$f"); done < <(/usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["file"])' "$idx")
done
run "$DAGDOC" classify --format json "${files[@]}"
if [ "$rc" = 2 ]; then
	_fail "classify the real logs" "exit 2" "${errout:0:600}"
	finish
fi
printf '%s\n' "$out" >"$TMP/real.jsonl"

/usr/bin/python3 - "$TMP/real.jsonl" "$MIN_CATEGORY" "$MIN_STAGE" "$MIN_ENTITY" "${indexes[@]}" <<'EOF'
import collections, json, os, re, sys
got_file, min_cat, min_stage, min_ent = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
index = {}
for path in sys.argv[5:]:
    for line in open(path):
        d = json.loads(line)
        index[d["id"]] = d
got = {}
for line in open(got_file):
    d = json.loads(line)
    got[os.path.basename(d["input"]).split(".")[0]] = d

def norm(s):
    return re.sub(r"[-_.\s/]+", "-", s.lower())

def entity_named(label, d):
    # the labelled entity names what failed; one of ours must name it too
    # (batch 2 labels are sentences: a value, or its file name, inside one)
    lab = norm(label)
    for v in d.get("entities", {}).values():
        for cand in (v or "", (v or "").rstrip("/").rsplit("/", 1)[-1]):
            c = norm(cand)
            if len(c) >= 3 and (c in lab or lab in c):
                return True
    return False

per = collections.defaultdict(lambda: [0, 0])
cal = collections.defaultdict(lambda: [0, 0])
misses, bad = [], []
stage_ok = stage_n = ent_ok = ent_n = 0
for cid, case in sorted(index.items()):
    want = case.get("cause_category") or case["category"]
    want = "none" if want == "success" else want
    d = got.get(cid)
    per[want][1] += 1
    if d is None:
        misses.append("%s: no result" % cid)
        continue
    right = d["category"] == want
    per[want][0] += right
    if not right:
        misses.append("%s: %s, wanted %s (%s, confidence %.2f)" % (cid, d["category"], want, d["pattern"], d["confidence"]))
    if want != "none":
        b = min(int(d["confidence"] * 10), 9)
        cal[b][1] += 1
        cal[b][0] += right
        if d["category"] == "none":
            bad.append("%s: a failure classified as none" % cid)
        if case.get("stage"):
            stage_n += 1
            if d.get("stage") == case["stage"]:
                stage_ok += 1
            else:
                misses.append("%s: stage %s, wanted %s" % (cid, d.get("stage"), case["stage"]))
        if case.get("entity"):
            ent_n += 1
            if entity_named(case["entity"], d):
                ent_ok += 1
            else:
                misses.append("%s: no entity names %r (got %s)" % (cid, case["entity"][:60], d.get("entities")))
    elif d["category"] not in ("none", "unknown") and d["confidence"] >= 0.5:
        bad.append("%s: success classified as %s/%s at %.2f" % (cid, d["category"], d["pattern"], d["confidence"]))
ok = sum(v[0] for v in per.values())
n = sum(v[1] for v in per.values())
for cat in sorted(per):
    c, t = per[cat]
    print("# %-20s %3d/%-3d %5.1f%%" % (cat, c, t, 100.0 * c / t))
acc = ok / n if n else 0.0
print("# category             %3d/%-3d %5.1f%%" % (ok, n, 100.0 * acc))
print("# stage                %3d/%-3d" % (stage_ok, stage_n))
print("# entity               %3d/%-3d" % (ent_ok, ent_n))
print("# calibration (confidence -> share right): " +
      ", ".join("%.1f-%.1f %d/%d" % (b / 10, b / 10 + 0.1, v[0], v[1]) for b, v in sorted(cal.items())))
for m in misses:
    print("#   miss %s" % m)
checks = [
    ("category accuracy %.1f%% >= %.0f%%" % (100 * acc, 100 * min_cat), acc >= min_cat),
    ("stage %d/%d" % (stage_ok, stage_n), stage_n == 0 or stage_ok / stage_n >= min_stage),
    ("entity %d/%d >= %.0f%%" % (ent_ok, ent_n, 100 * min_ent), ent_n == 0 or ent_ok / ent_n >= min_ent),
    ("no failure is none, no success is a confident failure", not bad),
]
for name, good in checks:
    print("%s - real logs: %s" % ("ok" if good else "not ok", name))
for b in bad:
    print("    " + b)
sys.exit(0 if all(g for _, g in checks) else 1)
EOF
py_rc=$?
[ "$py_rc" = 0 ] || _failed=$((_failed + 1))
finish
