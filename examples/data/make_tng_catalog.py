#!/usr/bin/env python3
"""Writes tng_galaxy_catalog.csv: the IllustrisTNG mock galaxy (Mock_Data_TNG.npz, `true_abuns`)
as a GALAH-style catalog with 0.05 dex Gaussian noise (seed 2025) and e_<x> = 0.05 dex, the
paper's observational setting (Buck et al. 2025 §2.3). Standard library only."""
import ast, io, random, struct, sys, zipfile
from pathlib import Path

here = Path(__file__).parent
with zipfile.ZipFile(here / "Mock_Data_TNG.npz") as z:
    raw = z.read("true_abuns.npy")
hlen = struct.unpack("<H", raw[8:10])[0] if raw[6] == 1 else struct.unpack("<I", raw[8:12])[0]
hstart = 10 if raw[6] == 1 else 12
header = ast.literal_eval(raw[hstart:hstart + hlen].decode("latin1"))
assert header["descr"] == "<f8" and not header["fortran_order"], header
rows, cols = header["shape"]
data = struct.unpack("<%dd" % (rows * cols), raw[hstart + hlen:hstart + hlen + 8 * rows * cols])
names = ["c_fe", "fe_h", "he_fe", "mg_fe", "n_fe", "ne_fe", "o_fe", "si_fe"]  # the file's column order
rng = random.Random(2025)
out = io.StringIO()
out.write("star_id," + ",".join(names) + "," + ",".join("e_" + n for n in names) + "\n")
for i in range(rows):
    vals = [data[i * cols + k] + rng.gauss(0.0, 0.05) for k in range(cols)]
    out.write("tng_%04d," % i + ",".join("%.6f" % v for v in vals) + "," + ",".join(["0.05"] * cols) + "\n")
(here / "tng_galaxy_catalog.csv").write_text(out.getvalue())
print("wrote", rows, "stars", file=sys.stderr)
