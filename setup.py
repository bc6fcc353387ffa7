# SPDX-License-Identifier: BSD-3-Clause
"""The chempp extension for setuptools (see pyproject.toml): python/src/module.cpp against the
headers in include/, the Python layer from python/chempp, and the shipped yield tables copied into
the package (chempp/data), where the module finds them at run time. Needs the C++ dependencies as
for CMake (Debian: libeigen3-dev xtensor-dev libxsimd-dev nlohmann-json3-dev); cfitsio is used when
pkg-config finds it."""
import os
import shutil
import subprocess

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def pkg_config(*args):
    try:
        return subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None


cflags = pkg_config("--cflags", "eigen3") or ["-I/usr/include/eigen3"]
macros, libs, lib_dirs, fits_inc = [], [], [], []
fits_libs = pkg_config("--libs", "cfitsio")
if fits_libs is not None:
    macros.append(("CHEMPP_HAVE_FITS", "1"))
    libs += [f[2:] for f in fits_libs if f.startswith("-l")]
    lib_dirs += [f[2:] for f in fits_libs if f.startswith("-L")]
    fits_inc = [f[2:] for f in (pkg_config("--cflags", "cfitsio") or []) if f.startswith("-I")]


class build_py_with_data(build_py):
    """Copies include/chempp/data (the shipped yield tables) into the built package."""

    def run(self):
        super().run()
        dst = os.path.join(self.build_lib, "chempp", "data")
        shutil.copytree(os.path.join(HERE, "include", "chempp", "data"), dst, dirs_exist_ok=True)


ext = Pybind11Extension(
    "chempp._chempp",
    ["python/src/module.cpp"],
    include_dirs=[os.path.join(HERE, "include")] + [f[2:] for f in cflags if f.startswith("-I")] + fits_inc,
    define_macros=macros,
    libraries=libs + ["pthread"],
    library_dirs=lib_dirs,
    cxx_std=20,
    extra_compile_args=["-O3", "-ffp-contract=off"],  # as the CMake targets: results independent of inlining
)

setup(
    packages=["chempp"],
    package_dir={"": "python"},
    ext_modules=[ext],
    cmdclass={"build_ext": build_ext, "build_py": build_py_with_data},
    zip_safe=False,
)
