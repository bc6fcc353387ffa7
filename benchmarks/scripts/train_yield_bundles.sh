#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark for issue "Every CHEMPY yield table, and Bayesian model comparison": trains one
# model bundle per yield combination with chempp-train and prints each bundle's time and the
# total wall time (target: 8 bundles at paper size in <= 30 min on 2 cores). The 8 combinations
# are the comparison set of docs/model-comparison.md: the paper's two (tng, alt) and six others,
# among them NuGrid AGB with IllustrisTNG core-collapse yields.
#
# usage: benchmarks/scripts/train_yield_bundles.sh BUILD_DIR OUT_DIR [small|paper] [PARALLEL]
#   BUILD_DIR  a build tree holding examples/chempp-train (e.g. build/release)
#   OUT_DIR    the bundles are written to OUT_DIR/m0 … OUT_DIR/m7 (existing ones are replaced)
#   PARALLEL   chempp-train processes at once (default 2: one per core; each uses one thread)
set -euo pipefail
build=${1:?usage: train_yield_bundles.sh BUILD_DIR OUT_DIR [small|paper] [PARALLEL]}
out=${2:?usage: train_yield_bundles.sh BUILD_DIR OUT_DIR [small|paper] [PARALLEL]}
config=${3:-paper}
parallel=${4:-2}
train="$build/examples/chempp-train"
[ -x "$train" ] || { echo "train_yield_bundles.sh: $train not found (build the chempp_train target)" >&2; exit 2; }
combos=(
  tng
  alt
  sn2=TNG_net,agb=Nugrid,sn1a=TNG
  sn2=TNG_net,agb=Karakas16_net,sn1a=Seitenzahl
  sn2=chieffi04,agb=Nugrid,sn1a=Seitenzahl
  sn2=CL18_net,agb=TNG_net,sn1a=Iwamoto
  sn2=Portinari_net,agb=Karakas_net_yield,sn1a=Thielemann
  sn2=NuGrid_net,agb=Ventura_net,sn1a=Seitenzahl
)
mkdir -p "$out"
start=$(date +%s.%N)
for k in "${!combos[@]}"; do
  echo "$k ${combos[$k]}"
done | xargs -P "$parallel" -L 1 sh -c '
  t0=$(date +%s.%N)
  "$0" --out "$1/m$3" --config "$2" --yields "$4" --seed $((100 + $3)) --threads 1 --quiet > "$1/m$3.train.txt"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v k="$3" -v y="$4" "BEGIN { printf \"bundle m%s (%s): %.1f s\\n\", k, y, b - a }"
' "$train" "$out" "$config"
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" -v n="${#combos[@]}" -v c="$config" -v p="$parallel" \
  'BEGIN { printf "train_yield_bundles: %d bundles (%s config, %d at a time): %.1f s wall (target 1800 s)\n", n, c, p, b - a }'
