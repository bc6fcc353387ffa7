#!/bin/sh
# Issue 15 regression test of chempp-gce (argument: the program). Each hostile line gets its own
# "error line N" and the valid line after them still runs; bad options exit 2 before any output.
set -u
gce="$1"
out=$(printf '%s\n' '-2.3 -2.89 -0.3 0.55 1e-999 8' '-400 -2.89 -0.3 0.55 0.5 8' 'nan -2.89 -0.3 0.55 0.5 8' \
  '-2.3 -2.89 -0.3 0.55 0.5 1e999' | "$gce" 2>/dev/null)
nul=$(printf -- '-2.3 -2.89 -0.3 0.55 0.5 8\000 9 9 9\n' | "$gce" 2>/dev/null)
fail=0
check() {  # check NAME TEXT PATTERN
  if printf '%s\n' "$2" | grep -q -- "$3"; then echo "ok: $1"; else echo "FAILED: $1: expected /$3/ in:"; printf '%s\n' "$2"; fail=1; fi
}
check "1e-999 is not read as 0" "$out" "^error line 1: not a finite double: '1e-999'"
check "alpha_IMF = -400 is outside the domain" "$out" "^error line 2: .*alpha_imf must lie in \[-5, 0\]"
check "nan is rejected" "$out" "^error line 3: not a finite double: 'nan'"
check "1e999 is rejected" "$out" "^error line 4: not a finite double"
check "a NUL byte does not silently end the line" "$nul" "^error line 1: NUL byte at column 27"
for opt in "--tau-ia 1e-300" "--tau-ia 0" "--threads 5000" "--threads -1" "--threads abc" "--tau-ia 1e-999"; do
  # shellcheck disable=SC2086
  if echo '-2.3 -2.89 -0.3 0.55 0.5 8' | "$gce" $opt >/dev/null 2>&1; then
    echo "FAILED: $opt accepted"; fail=1
  else
    rc=$?; if [ "$rc" -eq 2 ]; then echo "ok: $opt rejected"; else echo "FAILED: $opt exit $rc (expected 2)"; fail=1; fi
  fi
done
# 3000 threads for 2 lines: clamped to the work (it terminated the program before)
two=$(printf '%s\n' '-2.3 -2.89 -0.3 0.55 0.5 8' '-2.3 -2.89 -0.3 0.55 0.5 9' | "$gce" --threads 3000 2>/dev/null)
check "--threads 3000 is clamped to the lines" "$two" "^0\.0632550422308"
exit $fail
