#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/<harness>/seed-*).

Seeds: small valid files of every format (numpy arrays and archives written by numpy, the shipped
yield sets, CHEMPY's small raw SN Ia / TNG tables, a tiny emulator, flow and bundle written by
chempp, catalog lines, chempp-gce lines) and the hostile inputs of issue 15 (regression-*).
Inputs that libFuzzer finds crashing are added by hand as crash-<harness>-<n>.

usage: make_corpus.py SHARED_DIR SEED_DIR   (SEED_DIR: bundle/, flow_small.json, mlp_small.json
       written by a chempp program; see docs/fuzzing.md)
"""
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
shared, seeds = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(here))


def put(harness, name, data):
    d = os.path.join(here, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(arr):
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def npy_header(header, payload):
    h = header
    while (10 + len(h) + 1) % 64:
        h += " "
    h += "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + payload


# --- npy
put("npy", "seed-f8-2d", npy(np.arange(6, dtype="<f8").reshape(2, 3)))
put("npy", "seed-f4-fortran", npy(np.asfortranarray(np.arange(12, dtype="<f4").reshape(2, 3, 2))))
put("npy", "seed-i8", npy(np.array([-5, 1 << 62], dtype="<i8")))
put("npy", "seed-u1-bool", npy(np.array([True, False, True])))
put("npy", "seed-unicode", npy(np.array(["Fe", "C", "Mg"])))
put("npy", "seed-bytes", npy(np.array([b"ab", b"c"])))
put("npy", "seed-structured", npy(np.array([(1.5, 7), (2.5, -3)], dtype=[("Mass", "<f8"), ("n", "<i4")])))
put("npy", "seed-scalar", npy(np.float64(3.25)))
put("npy", "seed-v2", b"\x93NUMPY\x02\x00" + struct.pack("<I", 118) + npy(np.zeros(2))[10:])
with open(os.path.join(shared, "data/chempy/yields/Chieffi04/chieffi_net_met_ind_0.npy"), "rb") as f:
    put("npy", "seed-chieffi-net", f.read())
d2 = np.array([1.0, 2.0]).tobytes()
hostile = {
    "regression-header-ends-in-value": "{'descr':",
    "regression-unterminated-shape": "{'descr': '<f8', 'fortran_order': False, 'shape': (2,",
    "regression-huge-shape": "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }",
    "regression-shape-overflow": "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
    "regression-huge-string-width": "{'descr': '<U4611686018427387904', 'fortran_order': False, 'shape': (2,), }",
    "regression-negative-shape": "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }",
    "regression-duplicate-key": "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
}
for name, h in hostile.items():
    put("npy", name, npy_header(h, d2))
put("npy", "regression-nan-to-int", npy(np.array([1.0, np.nan])))
put("npy", "regression-1e300-to-int", npy(np.array([1e300, 2.0])))

# --- npz
def npz(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


b = io.BytesIO()
np.savez(b, params=np.arange(12.0).reshape(2, 6), elements=np.array(["C", "Fe", "H"]))
put("npz", "seed-savez", b.getvalue())
b = io.BytesIO()
np.savez(b, keys=np.array(["H1", "He4", "C12"]), datfile=np.ones((2, 3)))
put("npz", "seed-init-abun", b.getvalue())
put("npz", "regression-duplicate-member", npz([("x.npy", npy(np.zeros(2))), ("x.npy", npy(np.ones(2)))]))
put("npz", "regression-member-and-suffix", npz([("x.npy", npy(np.zeros(2))), ("x", npy(np.ones(2)))]))
bad = bytearray(npz([("x.npy", npy(np.zeros(2)))]))
bad[-10:-8] = b"\xff\xff"  # central directory size far beyond the file
put("npz", "regression-cd-size", bytes(bad))
put("npz", "regression-truncated", npz([("x.npy", npy(np.zeros(2)))])[:40])

# --- yields JSON
with open(os.path.join(root, "include/chempp/data/yields_tng.json"), "rb") as f:
    tng = f.read()
put("yields_json", "seed-yields-tng", tng)
put("yields_json", "seed-table-sn1a", json.dumps(json.loads(tng)["sn1a"]))
put("yields_json", "regression-deep", "[" * 100000 + "]" * 100000)
put("yields_json", "regression-1e400", tng.decode().replace('"version": 1', '"version": 1e400', 1))
put("yields_json", "regression-duplicate-key", '{"schema": "chempp.yield_set", "schema": "x"}')

# --- raw yield formats: first byte selects the loader (order of fuzz_raw_yields.cpp)
raw = [(0, "TNG/SNIa_hdf5_dump.txt"), (1, "Thielemann2003/0.02.txt"), (2, "Seitenzahl2013/0.02.txt"),
       (3, "Iwamoto/sn1a_yields.txt"), (4, "TNG/SNII_hdf5_dump.txt"), (5, "TNG/AGB_hdf5_dump.txt")]
for sel, rel in raw:
    with open(os.path.join(shared, "data/chempy/yields", rel), "rb") as f:
        put("raw_yields", "seed-" + rel.replace("/", "-"), bytes([sel]) + f.read())

# --- emulator weights, flow, bundle (written by chempp)
with open(os.path.join(seeds, "mlp_small.json"), "rb") as f:
    mlp = f.read()
put("emulator_json", "seed-mlp", mlp)
with open(os.path.join(seeds, "bundle/emulator.json"), "rb") as f:
    put("emulator_json", "seed-emulator-6-9", f.read())
j = json.loads(mlp)
j["version"] = 4294967297
put("emulator_json", "regression-version-2pow32p1", json.dumps(j))
j = json.loads(mlp)
j["input_standardisation"] = j["input_standardization"]
put("emulator_json", "regression-misspelt-key", json.dumps(j))
j = json.loads(mlp)
j["layers"][0]["shape"] = [1 << 62, 2]
put("emulator_json", "regression-huge-shape", json.dumps(j))
put("emulator_json", "regression-1e400", mlp.decode().replace('"version": 1', '"version": 1e400', 1))
with open(os.path.join(seeds, "flow_small.json"), "rb") as f:
    flow = f.read()
put("flow_json", "seed-flow", flow)
j = json.loads(flow)
j["config"]["transforms"] = 1000000000
put("flow_json", "regression-1e9-transforms", json.dumps(j))
j = json.loads(flow)
j["config"]["features"] = 1 << 62
put("flow_json", "regression-2pow62-features", json.dumps(j))
put("flow_json", "regression-deep", "[" * 100000)
with open(os.path.join(seeds, "bundle/bundle.json"), "rb") as f:
    bundle = f.read()
put("bundle", "seed-bundle", bundle)
j = json.loads(bundle)
j["nmae"] = j.pop("name")
put("bundle", "regression-misspelt-key", json.dumps(j))

# --- catalogs
with open(os.path.join(root, "examples/data/tng_galaxy_catalog.csv")) as f:
    lines = f.read().splitlines()
put("catalog", "seed-galah", "\n".join(lines[:6]) + "\n")
put("catalog", "seed-apogee-missing",
    "APOGEE_ID,C_FE,FE_H,MG_FE,N_FE,O_FE,SI_FE,C_FE_ERR,FE_H_ERR,MG_FE_ERR,N_FE_ERR,O_FE_ERR,SI_FE_ERR\n"
    "2M0001,0.1,-0.5,0.2,0.1,0.3,0.2,0.03,0.02,0.04,0.05,0.03,0.02\n"
    "2M0002,nan,-0.4,0.25,,0.31,0.21,nan,0.02,0.04,,0.03,0.02\n")

# --- chempp-gce lines
for i, line in enumerate(["-2.3 -2.89 -0.3 0.55 0.5 8", "-2.3,-2.89,-0.3,0.0,0.5,13", "1 2 3",
                          "-2.3 -2.89 -0.3 0.55 1e-999 8", "-400 -2.89 -0.3 0.55 0.5 8",
                          "-2.3 -2.89 -0.3 0.55 0.5 8\0 9 9 9", "nan inf -inf 0 0 0"]):
    put("gce_line", "seed-%d" % i, line)
