# SPDX-License-Identifier: BSD-3-Clause
"""PyTorch timing of the paper's emulator shape (6 -> 100 -> 40 -> 9, tanh, float32) for
bench_emulator's `x_vs_pytorch` column (issue 12): the same-machine baseline.

    /usr/bin/python3 benchmarks/reference/emulator_reference.py [threads]

Prints the median time per sample at batch 1 (a forward call under torch.no_grad(), what a
sampler evaluating one θ at a time pays), 1000 and 1e6, with `threads` intra-op threads (default 1).
Random weights: the arithmetic does not depend on their values.
"""
import sys
import time

import torch
from torch import nn


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 100), nn.Tanh(), nn.Linear(100, 40), nn.Tanh(), nn.Linear(40, 9)).float()
    for batch, reps in ((1, 20000), (1000, 200), (1000000, 3)):
        x = torch.randn(batch, 6)
        with torch.no_grad():
            for _ in range(min(reps, 100)):
                net(x)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(reps):
                    net(x)
                times.append((time.perf_counter() - t0) / reps / batch)
        times.sort()
        print(f"torch {torch.__version__} emulator 6-100-40-9 float32, batch {batch}, {threads} thread(s): "
              f"{times[2] * 1e6:.3f} us/sample (median of 5)")


if __name__ == "__main__":
    main()
