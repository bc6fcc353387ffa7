#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The install can move: `cmake --install BUILD --prefix P`, then P is moved elsewhere, and
#  * a C++ consumer built against the moved prefix (find_package) runs the GCE model with the
#    shipped yield tables,
#  * the installed chempp-gce runs from the moved bin/,
#  * `import chempp; chempp.Chempy('tng')` works with PYTHONPATH at the moved site-packages
#    (when the Python module was built).
# Usage: tests/programs/relocated_install.sh BUILD_DIR   (from the repository root)
set -euo pipefail
build=${1:?usage: relocated_install.sh BUILD_DIR}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cmake --install "$build" --prefix "$root/first" > /dev/null
mv "$root/first" "$root/moved"
p="$root/moved"
echo "installed into $root/first, moved to $p"

cmake -S tests/consumer -B "$root/consumer" -DCMAKE_PREFIX_PATH="$p" > /dev/null
cmake --build "$root/consumer" -j 2 > /dev/null
"$root/consumer/consumer"

out=$(echo "-2.3 -2.89 -0.3 0.55 0.5 8" | "$p/bin/chempp-gce")
echo "moved chempp-gce: $out"
case "$out" in fail*|error*|"") echo "moved chempp-gce failed"; exit 1;; esac

site=$(ls -d "$p"/lib*/python3*/site-packages 2>/dev/null | head -1 || true)
if [ -n "$site" ] && [ -d "$site/chempp" ]; then
  # from another directory, so nothing of the source or build tree is on the path
  (cd "$root" && PYTHONPATH="$site" /usr/bin/python3 -c "
import chempp, numpy as np
c = chempp.Chempy('tng')
ab, ok, _ = c.simulate(np.array([-2.3, -2.89, -0.3, 0.55, 0.5, 8.0]))
assert ok[0], 'the fiducial run failed'
print('moved Python module:', chempp.__file__, 'data', chempp.shipped_data_dir(), '[Fe/H] =', ab[0, 1])
assert str(chempp.shipped_data_dir()).startswith('$p'), 'yield tables not found inside the moved prefix'
")
else
  echo "no Python module installed (built without pybind11): skipped"
fi
echo "relocated install: OK"
