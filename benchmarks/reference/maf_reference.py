# SPDX-License-Identifier: BSD-3-Clause
"""PyTorch reference MAF for the chempp flow benchmark (issue 5).

A plain-torch re-implementation of what sbi 0.23.1 builds with nflows 0.14 for
posterior_nn("maf", hidden_features=8, num_transforms=4): z-scored θ and x, 4 x [MADE (masked
first layer + context linear layer, 2 tanh blocks, masked output; nflows degrees) ->
affine autoregressive transform with scale = softplus(s) + 1e-3 -> random permutation],
standard normal base; Adam lr 5e-4, batch 200, 10 % validation, patience 20, clip 5.
(nflows itself is not packaged for Debian; this follows its source.)

    /usr/bin/python3 benchmarks/reference/maf_reference.py OUT_DIR [max_epochs]

reads OUT_DIR/flow_task_{train,test}.bin written by examples/flow_nll_compare.cpp and prints
the best validation NLL and the test NLL (nats), also written to OUT_DIR/flow_nll_torch.json.

    /usr/bin/python3 benchmarks/reference/maf_reference.py OUT_DIR --time-epoch HIDDEN [THREADS]

times whole epochs (training steps at batch 128 + the validation pass, float32, as bench_flow's
BM_flow_train_epoch_1e5_batch128 does) on the same 1e5 pairs and prints the median of 5 epochs:
the same-machine baseline for bench_flow's training figures (issue 12).
"""
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class MaskedLinear(nn.Linear):
    def __init__(self, in_degrees, out_features, features, is_output):
        super().__init__(len(in_degrees), out_features)
        if is_output:
            out_degrees = torch.arange(1, features + 1).repeat_interleave(out_features // features)
            mask = (out_degrees[:, None] > in_degrees[None, :]).float()
        else:
            mx, mn = max(1, features - 1), min(1, features - 1)
            out_degrees = torch.arange(out_features) % mx + mn
            mask = (out_degrees[:, None] >= in_degrees[None, :]).float()
        self.register_buffer("mask", mask)
        self.degrees = out_degrees

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    def __init__(self, features, hidden, context, blocks=2):
        super().__init__()
        in_deg = torch.arange(1, features + 1)
        self.initial = MaskedLinear(in_deg, hidden, features, False)
        self.context = nn.Linear(context, hidden)
        self.blocks = nn.ModuleList()
        deg = self.initial.degrees
        for _ in range(blocks):
            layer = MaskedLinear(deg, hidden, features, False)
            self.blocks.append(layer)
            deg = layer.degrees
        self.final = MaskedLinear(deg, 2 * features, features, True)

    def forward(self, u, c):
        h = self.initial(u) + self.context(c)
        for layer in self.blocks:
            h = torch.tanh(layer(h))
        return self.final(h)


class MAF(nn.Module):
    def __init__(self, features, context, hidden=8, transforms=4, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.mades = nn.ModuleList(MADE(features, hidden, context) for _ in range(transforms))
        self.perms = [torch.randperm(features, generator=g) for _ in range(transforms)]
        self.features = features

    def set_standardization(self, theta, x):
        self.tm, self.ts = theta.mean(0), theta.std(0).clamp_min(1e-14)
        self.xm, self.xs = x.mean(0), x.std(0).clamp_min(1e-14)

    def log_prob(self, theta, x):
        u = (theta - self.tm) / self.ts
        c = (x - self.xm) / self.xs
        logdet = torch.zeros(theta.shape[0]) - torch.log(self.ts).sum()
        for made, perm in zip(self.mades, self.perms):
            out = made(u, c).view(-1, self.features, 2)  # nflows layout: [..., 0] scale, [..., 1] shift
            scale = F.softplus(out[..., 0]) + 1e-3
            u = scale * u + out[..., 1]
            logdet = logdet + torch.log(scale).sum(1)
            u = u[:, perm]
        return -0.5 * (u ** 2).sum(1) - 0.5 * self.features * math.log(2 * math.pi) + logdet


def load(path):
    a = np.fromfile(path, dtype="<f8").reshape(-1, 14)
    return torch.tensor(a[:, :6], dtype=torch.float32), torch.tensor(a[:, 6:], dtype=torch.float32)


def train_epoch(flow, opt, theta, x, tr, batch):
    """One epoch of Adam steps over the training indices `tr` in a fresh random order (clip 5)."""
    order = tr[torch.randperm(len(tr))]
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        opt.zero_grad()
        loss = -flow.log_prob(theta[idx], x[idx]).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(flow.parameters(), 5.0)
        opt.step()


def time_epochs(out_dir, hidden, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    theta, x = load(f"{out_dir}/flow_task_train.bin")
    n = theta.shape[0]
    perm = torch.randperm(n)
    n_val = int(0.1 * n)
    val, tr = perm[:n_val], perm[n_val:]
    flow = MAF(6, 8, hidden=hidden, seed=0)
    flow.set_standardization(theta[tr], x[tr])
    opt = torch.optim.Adam(flow.parameters(), lr=5e-4)
    times = []
    for epoch in range(6):
        te = time.perf_counter()
        train_epoch(flow, opt, theta, x, tr, 128)
        with torch.no_grad():
            -flow.log_prob(theta[val], x[val]).mean().item()
        if epoch > 0:  # the first epoch warms up the allocator
            times.append(time.perf_counter() - te)
    times.sort()
    print(f"torch {torch.__version__} reference MAF, hidden {hidden}, {threads} thread(s): "
          f"median epoch {times[len(times) // 2]:.3f} s (batch 128, 9e4 training + 1e4 validation pairs)")


def main():
    out_dir = sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "--time-epoch":
        time_epochs(out_dir, int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
        return
    max_epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    torch.set_num_threads(2)
    torch.manual_seed(0)
    theta, x = load(f"{out_dir}/flow_task_train.bin")
    theta_test, x_test = load(f"{out_dir}/flow_task_test.bin")
    n = theta.shape[0]
    perm = torch.randperm(n)
    n_val = int(0.1 * n)
    val, tr = perm[:n_val], perm[n_val:]
    flow = MAF(6, 8, seed=0)
    flow.set_standardization(theta[tr], x[tr])
    opt = torch.optim.Adam(flow.parameters(), lr=5e-4)
    best, best_state, since, epoch = float("inf"), None, 0, 0
    t0 = time.time()
    for epoch in range(max_epochs):
        te = time.time()
        train_epoch(flow, opt, theta, x, tr, 200)
        with torch.no_grad():
            v = -flow.log_prob(theta[val], x[val]).mean().item()
        if epoch % 10 == 0:
            print(f"epoch {epoch:4d} validation NLL {v:.4f} ({time.time() - te:.2f} s)", flush=True)
        if epoch == 0 or v < best:
            best, since = v, 0
            best_state = {k: t.clone() for k, t in flow.state_dict().items()}
        else:
            since += 1
        if since > 19:
            break
    flow.load_state_dict(best_state)
    with torch.no_grad():
        test = -flow.log_prob(theta_test, x_test).mean().item()
    secs = time.time() - t0
    print(f"torch reference MAF: {epoch + 1} epochs, {secs:.1f} s, best validation NLL {best:.4f}, test NLL {test:.4f}")
    with open(f"{out_dir}/flow_nll_torch.json", "w") as f:
        json.dump({"epochs": epoch + 1, "best_validation_nll": best, "test_nll": test, "seconds": secs}, f)


if __name__ == "__main__":
    main()
