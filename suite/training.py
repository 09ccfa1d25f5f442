"""Training the workloads' reference networks (snnTorch, surrogate gradients, CPU), 8-bit
quantisation, and evaluation through the ``sparse-cpu`` backend: ``spikebench train``.

This lives upstairs (it needs torch, snnTorch and a backend); the workloads keep their recipe as
data (``workload.train_config()``, a :class:`~spikebench.workloads.train_config.TrainConfig`) and
score output spikes (``workload.evaluate``) without simulating anything themselves.

Recipe (every workload; the architecture and hyper-parameters are the workload's
:class:`TrainConfig`):

1. The train split is loaded through the workload (the same readers and binning the harness uses),
   in a fixed order; each epoch draws a permutation from ``numpy.random.Generator(PCG64(seed))``.
2. Each layer is an ``nn.Linear`` feeding an ``snntorch.Leaky`` (feed-forward) or an
   ``snntorch.RLeaky(all_to_all=True)`` (recurrent, whose recurrent ``nn.Linear`` has a bias), with
   subtract reset, threshold 1, fixed (not trained) ``beta`` -- one value per layer, or per-neuron
   values spread evenly over a range (heterogeneous time constants) -- and snnTorch's
   ``fast_sigmoid`` surrogate gradient (slope from the config; 10 for all three workloads). Biases
   start at 0 (with beta near 1 a bias b alone holds the membrane at b / (1 - beta)). The input
   projection of a batch is one sparse x dense product (input spikes are sparse); the LIF updates
   run step by step. The loss is cross-entropy on output spike counts (rate code; the logits are
   the counts), class-weighted for the anomaly task; Adam with a cosine learning-rate decay.
3. After training, every weight matrix is quantised to **8 bits with a power-of-two scale**
   (``w_q = clip(round(w * 2**k), -127, 127) / 2**k`` with the largest ``k`` that keeps
   ``max|w|`` in range), biases to the same grid (16-bit range). On that dyadic grid every float32
   sum is exact in any order, so the ``sparse-cpu`` and ``snntorch`` backends give identical spikes.
   Layers carry ``weight_bits=8``.
4. The quantised network is simulated with ``spikebench.simulate(..., backend="sparse-cpu")`` on
   the train and held-out splits and its output spikes scored by ``workload.evaluate``; for the
   anomaly task the decision threshold is chosen on the **train** split (max F1) and stored in the
   metadata.
5. Saved as ``<out>/<workload>.nir`` (``Network.to_nir``) plus ``<out>/<workload>.json``.

Determinism: ``torch.manual_seed(seed)``, ``torch.use_deterministic_algorithms(True)``, a fixed
thread count (recorded), a seeded data order. Torch and snnTorch are imported inside the
functions that need them.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from spikebench.core import Layer, Network, SpikeTrain
from spikebench.core.errors import SpikebenchError
from spikebench.core.fileio import atomic_write_text, check_writable_folder, json_default, output_error
from spikebench.workloads.base import WorkloadData, data_note
from spikebench.workloads.data import cache_root
from spikebench.workloads.train_config import ConvSpec, LayerSpec, TrainConfig

METADATA_SCHEMA = "spikebench.reference-network/1"


class TrainingError(SpikebenchError):
    """Training cannot run (bad configuration, missing split, unusable data)."""


def _torch_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _conv_shapes(in_shape, cfg: TrainConfig) -> list[tuple]:
    """Per layer the input shape (conv layers) and output shape, from the workload's input shape."""
    shapes, shape = [], tuple(in_shape)
    for spec in cfg.layers:
        if isinstance(spec, ConvSpec):
            if len(shape) != 3:
                raise TrainingError(f"a conv layer needs a (C, H, W) input, got {shape}; put conv layers first")
            h = (shape[1] + 2 * spec.padding - spec.kernel) // spec.stride + 1
            w = (shape[2] + 2 * spec.padding - spec.kernel) // spec.stride + 1
            if spec.pool:
                h, w = h // spec.pool, w // spec.pool
            if h < 1 or w < 1:
                raise TrainingError(f"conv layer with kernel {spec.kernel} leaves no output on a {shape} input")
            out = (spec.channels, h, w)
        else:
            out = (spec.n_out,)
        shapes.append((shape, out))
        shape = out
    return shapes


def _build(in_shape, cfg: TrainConfig):
    import snntorch as snn
    import torch
    from snntorch import surrogate

    grad = surrogate.fast_sigmoid(slope=cfg.surrogate_slope)
    mods = torch.nn.ModuleList()
    shapes = _conv_shapes(in_shape, cfg)
    for i, spec in enumerate(cfg.layers):
        prev = int(np.prod(shapes[i][0]))
        if isinstance(spec, ConvSpec):
            conv = torch.nn.Conv2d(shapes[i][0][0], spec.channels, spec.kernel, stride=spec.stride, padding=spec.padding)
            g = cfg.init_gain[i] if i < len(cfg.init_gain) else 1.0
            with torch.no_grad():
                conv.weight.mul_(g)
                conv.bias.mul_(0.0 if cfg.zero_bias else g)
            conv.pool = spec.pool  # average pooling of the currents after the convolution
            lif = snn.Leaky(beta=torch.tensor(spec.beta, dtype=torch.float32), spike_grad=grad, reset_mechanism="subtract")
            mods.append(torch.nn.ModuleDict({"conv": conv, "lif": lif}))
            continue
        lin = torch.nn.Linear(prev, spec.n_out)
        g = cfg.init_gain[i] if i < len(cfg.init_gain) else 1.0
        with torch.no_grad():
            lin.weight.mul_(g)
            lin.bias.mul_(0.0 if cfg.zero_bias else g)
        beta = torch.from_numpy(spec.betas())
        if spec.recurrent:
            lif = snn.RLeaky(beta=beta, all_to_all=True, linear_features=spec.n_out, spike_grad=grad,
                             reset_mechanism="subtract")
            with torch.no_grad():
                lif.recurrent.weight.mul_(0.5)
        else:
            lif = snn.Leaky(beta=beta, spike_grad=grad, reset_mechanism="subtract")
        mods.append(torch.nn.ModuleDict({"fc": lin, "lif": lif}))
    return mods


def _sparse_batch(train: SpikeTrain, idx: np.ndarray):
    """Time-major sparse ``(T * B, n)`` float input of the samples ``idx``."""
    import torch

    sub = train.select(idx)
    b = np.repeat(np.arange(len(idx), dtype=np.int64), np.diff(sub.sample_ptr))
    rows = sub.times.astype(np.int64) * len(idx) + b
    ind = torch.from_numpy(np.stack([rows, sub.indices.astype(np.int64)]))
    vals = torch.ones(len(rows), dtype=torch.float32)
    return torch.sparse_coo_tensor(ind, vals, (train.timesteps * len(idx), train.n), check_invariants=False).coalesce()


def _forward(mods, x_sparse, T: int, B: int, shapes=None):
    """Output spikes ``(T, B, n_out)`` of the stack on a time-major sparse input."""
    import torch
    import torch.nn.functional as F

    h = None
    for k, m in enumerate(mods):
        lif = m["lif"]
        if "conv" in m:
            conv, in_shape = m["conv"], shapes[k][0]
            x = x_sparse.to_dense() if k == 0 else h
            cur = conv(x.reshape(T * B, *in_shape))
            pool = m["conv"].pool if hasattr(m["conv"], "pool") else 0
            if pool:
                cur = F.avg_pool2d(cur, pool)
            cur = cur.reshape(T, B, -1)
        else:
            fc = m["fc"]
            if k == 0:
                cur = torch.sparse.mm(x_sparse, fc.weight.t()) + fc.bias
            else:
                cur = fc(h.reshape(T * B, -1))
            cur = cur.reshape(T, B, -1)
        spks = []
        if hasattr(lif, "recurrent"):
            spk, mem = lif.init_rleaky()
            for t in range(T):
                spk, mem = lif(cur[t], spk, mem)
                spks.append(spk)
        else:
            mem = lif.init_leaky()
            for t in range(T):
                spk, mem = lif(cur[t], mem)
                spks.append(spk)
        h = torch.stack(spks)
    return h


def _quantise(w: np.ndarray, bits: int = 8) -> tuple[np.ndarray, int]:
    """Power-of-two scaled ``bits``-bit signed grid: returns (dequantised float32 values, k) with step 2**-k."""
    qmax = 2 ** (bits - 1) - 1
    m = float(np.max(np.abs(w))) if w.size else 0.0
    k = 0 if m == 0 else int(np.floor(np.log2(qmax / m)))
    q = np.clip(np.round(w.astype(np.float64) * 2.0**k), -qmax, qmax)
    return (q / 2.0**k).astype(np.float32), k


def _on_grid(v: np.ndarray, k: int, bits: int = 16) -> np.ndarray:
    qmax = 2 ** (bits - 1) - 1
    return (np.clip(np.round(v.astype(np.float64) * 2.0**k), -qmax, qmax) / 2.0**k).astype(np.float32)


def to_network(mods, cfg: TrainConfig, *, name: str, quantise: bool = True, in_shape=None) -> tuple[Network, dict]:
    """The trained stack as an 8-bit, power-of-two-scaled spikebench Network (+ the scales used).

    ``quantise=False`` keeps the float32 weights (for diagnostics only: backends may then differ).
    ``in_shape``: the workload's input shape (needed when the first layer is convolutional).
    """
    from spikebench.core.connectivity import Pool2d

    layers, scales = [], []
    quant = _quantise if quantise else (lambda w: (w.astype(np.float32), 0))
    grid = _on_grid if quantise else (lambda v, k: v.astype(np.float32))
    shapes = _conv_shapes(in_shape, cfg) if in_shape is not None else None
    for i, (m, spec) in enumerate(zip(mods, cfg.layers)):
        if isinstance(spec, ConvSpec):
            w, k = quant(m["conv"].weight.detach().cpu().numpy())
            b = grid(m["conv"].bias.detach().cpu().numpy(), k)
            layers.append(Layer(weight=w, bias=b, in_shape=shapes[i][0], stride=spec.stride, padding=spec.padding,
                                pool=Pool2d("avg", spec.pool) if spec.pool else None, beta=spec.beta, threshold=1.0,
                                reset="subtract", weight_bits=8, name=f"conv{i + 1}"))
            scales.append({"layer": i, "weight_scale_exp": -k})
            continue
        w, k = quant(m["fc"].weight.detach().cpu().numpy())
        b = grid(m["fc"].bias.detach().cpu().numpy(), k)
        kw = {}
        info = {"layer": i, "weight_scale_exp": -k}
        if spec.recurrent:
            wr, kr = quant(m["lif"].recurrent.weight.detach().cpu().numpy())
            kw = {"recurrent_weight": wr, "recurrent_bias": grid(m["lif"].recurrent.bias.detach().cpu().numpy(), kr)}
            info["recurrent_scale_exp"] = -kr
        layers.append(Layer(weight=w, bias=b, beta=spec.betas(), threshold=1.0, reset="subtract",
                            weight_bits=8, name=f"{'rlif' if spec.recurrent else 'lif'}{i + 1}", **kw))
        scales.append(info)
    return Network(layers=tuple(layers), name=name), {"scheme": "8-bit signed, power-of-two scale per matrix; "
                                                      "biases on the same grid (16-bit range)", "layers": scales}


# ---- the training run --------------------------------------------------------------------------------


def evaluate_network(workload, net: Network, *, train: WorkloadData, test: WorkloadData) -> dict:
    """Simulate ``net`` on both splits (``sparse-cpu``) and let the workload score the output spikes."""
    from spikebench import simulate

    train_outputs = simulate(net, train.spikes, backend="sparse-cpu").output_spikes
    test_outputs = simulate(net, test.spikes, backend="sparse-cpu").output_spikes
    return workload.evaluate(train_outputs, test_outputs, train=train, test=test)


def _versions() -> dict:
    import snntorch
    import torch

    from spikebench import __version__

    return {"spikebench": __version__, "torch": torch.__version__, "snntorch": snntorch.__version__,
            "numpy": np.__version__, "python": platform.python_version(), "cpu_vendor": cpu_vendor()}


def cpu_vendor() -> str:
    """The CPU's vendor (``/proc/cpuinfo`` ``vendor_id``, e.g. ``GenuineIntel``, ``AuthenticAMD``), or
    ``platform.processor()``. torch's CPU kernels (oneDNN, MKL) dispatch per vendor and ISA, so float
    training reproduces bit for bit only on the kind of CPU it ran on; it is recorded with each network."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fit(x: SpikeTrain, y: np.ndarray, cfg: TrainConfig, *, in_shape: tuple, seed: int, n_epochs: int, log=print):
    """The training loop alone: ``n_epochs`` of Adam on ``(x, y)`` from ``seed``; returns
    ``(modules, history, torch threads)``. Deterministic: the same seed, data, epochs and CPU kind give the
    same weights bit for bit, and the first epoch of a longer run is the same as a one-epoch run (the
    cosine schedule only lowers the rate after each epoch), which is what the quick reproduction test uses.
    """
    import torch

    threads = _torch_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    shapes = _conv_shapes(in_shape, cfg)
    mods = _build(in_shape, cfg)
    opt = torch.optim.Adam(mods.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs) if cfg.cosine else None
    n_classes = cfg.layers[-1].n_out
    if cfg.class_weighted:
        freq = np.bincount(y, minlength=n_classes).astype(np.float64)
        w = torch.tensor(len(y) / (n_classes * np.maximum(freq, 1.0)), dtype=torch.float32)
    else:
        w = None
    loss_fn = torch.nn.CrossEntropyLoss(weight=w)
    history = []
    B = cfg.batch_size
    for epoch in range(n_epochs):
        t0 = time.perf_counter()
        order = rng.permutation(x.samples)
        tot, correct, seen = 0.0, 0, 0
        for s in range(0, len(order), B):
            idx = np.sort(order[s:s + B])
            xb = _sparse_batch(x, idx)
            out_spk = _forward(mods, xb, x.timesteps, len(idx), shapes)
            counts = out_spk[cfg.readout_start:].sum(0)
            yb = torch.from_numpy(y[idx])
            loss = loss_fn(counts, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(idx)
            correct += int((counts.argmax(1) == yb).sum())
            seen += len(idx)
        if sched is not None:
            sched.step()
        history.append({"epoch": epoch + 1, "loss": tot / seen, "train_accuracy": correct / seen,
                        "seconds": time.perf_counter() - t0})
        log(f"  epoch {epoch + 1}/{n_epochs}: loss {tot / seen:.4f}, train accuracy {correct / seen:.3f} "
            f"({time.perf_counter() - t0:.1f} s)")
    return mods, history, threads


def train_workload(workload, *, data_dir: str | Path | None = None, epochs: int | None = None, seed: int = 0,
                   out_dir: str | Path | None = None, limit: int | None = None, test_limit: int | None = None,
                   data_seed: int = 0, require_real: bool = False, log=print, config: TrainConfig | None = None,
                   diagnose: bool = False, variant: str | None = None) -> dict:
    """Train, quantise, evaluate and save ``workload``'s reference network; returns the metadata.

    ``seed`` drives initialisation and data order; ``data_seed`` picks the offline data set (and
    the ``limit`` subsets), 0 being the default data the shipped networks were trained on.
    ``limit``/``test_limit`` cap the train/held-out samples (quick runs); ``epochs`` overrides the
    workload's default; ``config`` replaces its :class:`TrainConfig`; ``diagnose`` also logs the
    unquantised network's metric. Files: ``<out_dir>/<workload.name>.nir`` and ``.json`` (default
    ``out_dir``: the current folder); a ``variant`` (a second network the workload ships, e.g.
    N-MNIST's ``csnn``) is trained from its own recipe and saved as ``<workload.name>-<variant>.nir``.
    A recipe with its own binning (``timestep_s``/``timesteps``) is trained and evaluated on data
    binned that way, and the binning is stored in the NIR file's metadata.
    """
    cfg: TrainConfig = workload.train_config(variant) if config is None else config
    stem = workload.name if variant is None else f"{workload.name}-{variant}"
    if cfg.timestep_s is not None or cfg.timesteps is not None:
        workload = type(workload)(network_path=workload.network_path, data_params=workload.data_params,
                                  with_baseline=workload.with_baseline, timestep_s=cfg.timestep_s,
                                  timesteps=cfg.timesteps)
    n_epochs = cfg.epochs if epochs is None else int(epochs)
    if n_epochs < 1:
        raise TrainingError(f"epochs must be >= 1, got {epochs}")
    out = Path(out_dir) if out_dir is not None else Path(".")
    # never after the expensive work: the output folder must take both files before we train
    check_writable_folder(out, what="output folder", names=(f"{stem}.nir", f"{stem}.json"))
    t_start = time.perf_counter()
    train = workload.load("train", data_dir=data_dir, require_real=require_real, limit=limit, seed=data_seed)
    test = workload.load("test", data_dir=data_dir, require_real=require_real, limit=test_limit, seed=data_seed)
    x = train.spikes
    y = np.asarray(train.labels, dtype=np.int64)
    log(f"{workload.name}: {x.samples} train / {test.spikes.samples} held-out samples "
        f"({train.provenance}); {x.timesteps} steps of {x.timestep_s * 1e3:g} ms, {x.n} channels")

    in_shape = tuple(getattr(workload, "input_shape", (x.n,)))
    mods, history, threads = fit(x, y, cfg, in_shape=in_shape, seed=seed, n_epochs=n_epochs, log=log)
    B = cfg.batch_size
    train_s = time.perf_counter() - t_start

    net, quant = to_network(mods, cfg, name=f"{workload.name}-reference" if variant is None else stem,
                            in_shape=in_shape)
    binning = {"timestep_s": x.timestep_s, "timesteps": x.timesteps}
    if cfg.timestep_s is not None or cfg.timesteps is not None:
        net = Network(layers=net.layers, name=net.name, metadata={**net.metadata, "binning": binning})
    if diagnose:
        fnet, _ = to_network(mods, cfg, name="float", quantise=False, in_shape=in_shape)
        log(f"  float32 (unquantised) network: {evaluate_network(workload, fnet, train=train, test=test)['value']:.4f}")
    evaluation = evaluate_network(workload, net, train=train, test=test)
    meta = {
        "schema": METADATA_SCHEMA,
        "workload": workload.name,
        "variant": variant,
        "task": workload.task,
        "data": {"provenance": test.provenance, "source": _portable(test.source), "train_source": _portable(train.source),
                 "train_samples": x.samples,
                 "test_samples": test.spikes.samples, "seed": data_seed, "limit": limit, "test_limit": test_limit},
        "timestep_s": x.timestep_s,
        "timesteps": x.timesteps,
        "n_in": x.n,
        "architecture": {"sizes": net.sizes, "recurrent": [layer.recurrent for layer in net.layers],
                         "layers": [{"kind": layer.kind, "in_shape": list(layer.in_shape),
                                     "out_shape": list(layer.out_shape), **({"kernel": list(layer.weight.shape[2:]),
                                                                             "pool": layer.pool.to_dict() if layer.pool else None}
                                                                            if layer.conv else {})}
                                    for layer in net.layers],
                         "beta": [list(s.beta) if isinstance(s.beta, tuple) else s.beta for s in cfg.layers], "threshold": 1.0, "reset": "subtract",
                         "readout": workload.readout},
        "binning": binning,
        "training": {"seed": seed, "epochs": n_epochs, "batch_size": B, "lr": cfg.lr,
                     "lr_schedule": "cosine to 0 over the epochs" if cfg.cosine else "constant",
                     "weight_decay": cfg.weight_decay, "loss": "cross-entropy on output spike counts"
                     + (" (class-weighted)" if cfg.class_weighted else ""),
                     "surrogate": f"snntorch fast_sigmoid(slope={cfg.surrogate_slope:g})", "optimizer": "Adam",
                     "torch_threads": threads, "deterministic": True, "history": history,
                     "training_time_s": round(train_s, 2)},
        "quantisation": quant,
        "evaluation_backend": "sparse-cpu",
        **evaluation,
        "note": data_note(test),
        "versions": _versions(),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc, "cannot create the output folder") from None
    net_path = out / f"{stem}.nir"
    net.to_nir(net_path)
    atomic_write_text(out / f"{stem}.json", json.dumps(meta, indent=1, sort_keys=True, default=json_default) + "\n")
    meta["total_time_s"] = round(time.perf_counter() - t_start, 2)
    return meta


def _portable(text: str) -> str:
    """A source line without this machine's cache or home folder in it (shipped metadata)."""
    return text.replace(str(cache_root()), "<cache>").replace(str(Path.home()), "~")


__all__ = ["METADATA_SCHEMA", "TrainingError", "LayerSpec", "TrainConfig", "fit", "to_network", "evaluate_network",
           "train_workload"]
