#!/bin/sh
# chempp-infer-mpi on a mock survey of 4 populations (tests/CMakeLists: ctest mpi_survey_program):
#  1. the result of `mpirun -n 2` equals the 1-rank run and the plain chempp-infer to 1e-12 relative
#     (every number of the JSON except timings; the exact sums make them bit-identical), with the
#     exact (CHEMPY) correction;
#  2. a malformed catalog row read by rank 1 stops both ranks with one message naming its line;
#  3. a rank that dies (SIGKILL, fault injection) is reported by mpirun, not hung on.
#  4. chempp-train-mpi on 2 ranks (CHEMPY runs split) writes the bundle chempp-train writes
#     (byte for byte: emulator and flow weights; bundle.json apart from its timings).
# Arguments: chempp-train chempp-mock-survey chempp-infer chempp-infer-mpi mpiexec python3 workdir chempp-train-mpi
set -eu
train=$1 mock=$2 infer=$3 infer_mpi=$4 mpiexec=$5 py=$6 work=$7 train_mpi=$8
rm -rf "$work"; mkdir -p "$work"; cd "$work"
mpi="$mpiexec --oversubscribe"
[ "$(id -u)" = 0 ] && mpi="$mpi --allow-run-as-root"
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
"$train" --config tiny --out model --seed 2 --threads 2 --quiet
"$mock" --model model --out survey.csv --truth truth.csv --populations 4 --stars 30 --seed 3 --threads 2
opts="--model model --catalog survey.csv --group-by population --truth truth.csv --seed 5 --threads 1 --exact-correction --quiet"
"$infer" $opts --out r0.json
$mpi -n 1 "$infer_mpi" $opts --out r1.json
$mpi -n 2 "$infer_mpi" $opts --out r2.json
"$py" - r0.json r1.json r2.json <<'PY'
import json, sys
def walk(a, b, path, worst):
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ"
        for k in a:
            if k in ("seconds", "processes"): continue
            walk(a[k], b[k], f"{path}.{k}", worst)
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)): walk(x, y, f"{path}[{i}]", worst)
    elif isinstance(a, float) or isinstance(b, float):
        d = abs(a - b) / max(abs(a), abs(b), 1e-300)
        if d > worst[0]: worst[0], worst[1] = d, path
    else:
        assert a == b, f"{path}: {a} != {b}"
r = [json.load(open(f)) for f in sys.argv[1:]]
assert len(r[0]["populations"]) == 4 and r[2]["processes"] == 2
assert any(c != 0 for p in r[0]["populations"] for c in p["diagnostics"]["exact_correction"]), "the exact correction was not applied"
for other, name in ((r[1], "1 rank"), (r[2], "2 ranks")):
    worst = [0.0, ""]
    walk(r[0], other, "", worst)
    print(f"largest relative difference, chempp-infer vs chempp-infer-mpi {name}: {worst[0]:.3g} {worst[1]}")
    assert worst[0] <= 1e-12, worst
PY
# 2. a malformed row on rank 1 (data row 5: rows r with r % 2 == 1 go to rank 1), line 7 of the file
awk 'NR == 7 { sub(/,[^,]*$/, ",0.05x") } { print }' survey.csv > bad.csv
if $mpi -n 2 "$infer_mpi" --model model --catalog bad.csv --group-by population --out x.json --quiet > bad.out 2> bad.err; then
  echo "a malformed row was accepted"; exit 1
fi
cat bad.err
test "$(grep -c 'chempp-infer: error' bad.err)" = 1
grep -q 'bad.csv:7' bad.err
# 3. rank 1 dies: mpirun must end the job and say so (the test's TIMEOUT catches a hang)
if CHEMPP_TEST_KILL_RANK=1 $mpi -x CHEMPP_TEST_KILL_RANK -n 2 "$infer_mpi" --model model --catalog survey.csv --group-by population --out y.json --quiet > kill.out 2> kill.err; then
  echo "a killed rank went unnoticed"; exit 1
fi
cat kill.err | head -20
grep -qi 'signal 9\|killed' kill.err
# 4. the bundle from 2 ranks
$mpi -n 2 "$train_mpi" --config tiny --out model2 --seed 2 --threads 1 --quiet
cmp model/emulator.json model2/emulator.json
cmp model/flow.json model2/flow.json
"$py" - model/bundle.json model2/bundle.json <<'PY'
import json, sys
def strip(x):
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k not in ("seconds", "seconds_total")}
    if isinstance(x, list): return [strip(v) for v in x]
    return x
a, b = (strip(json.load(open(f))) for f in sys.argv[1:])
assert a == b, "bundle.json differs between chempp-train and chempp-train-mpi -n 2"
print("chempp-train-mpi -n 2 bundle == chempp-train bundle")
PY
echo mpi-survey-ok
