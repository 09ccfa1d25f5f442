"""Training the reference networks (snnTorch, surrogate gradients, CPU), 8-bit quantisation, and
the torch-free helpers the workloads share (shipped networks, baselines, metric notes).

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
4. The quantised network is evaluated with ``spikebench.simulate(..., backend="sparse-cpu")`` on the
   held-out split and scored by the workload; for the anomaly task the decision threshold is
   chosen on the **train** split (max F1) and stored in the metadata.
5. Saved as ``<out>/<workload>.nir`` (``Network.to_nir``) plus ``<out>/<workload>.json``.

Determinism: ``torch.manual_seed(seed)``, ``torch.use_deterministic_algorithms(True)``, a fixed
thread count (recorded), a seeded data order. Torch and snnTorch are imported inside the
functions that need them.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from spikebench.core import Layer, Network, SpikeTrain
from spikebench.core.errors import SpikebenchError, UnknownNameError, one_line

NETWORKS_DIR = Path(__file__).resolve().parent / "networks"
METADATA_SCHEMA = "spikebench.reference-network/1"
SYNTHETIC_NOTE = ("SYNTHETIC data: results must never be presented as comparable to published numbers "
                  "on the real dataset (datasets reference section 4)")


class TrainingError(SpikebenchError):
    """Training cannot run (bad configuration, missing split, unusable data)."""


# ---- notes, shipped networks ----------------------------------------------------------------------


def provenance_note(provenance: str, extra: str = "") -> str:
    """The note every Metric carries: the data provenance first, the synthetic warning when it applies."""
    parts = [f"data: {provenance}"]
    if provenance == "synthetic":
        parts.append(SYNTHETIC_NOTE)
    elif provenance == "real-sample":
        parts.append("real data, but a subset: not comparable to published full-dataset numbers")
    if extra:
        parts.append(extra)
    return "; ".join(parts)


def shipped_paths(workload: str) -> tuple[Path, Path]:
    return NETWORKS_DIR / f"{workload}.nir", NETWORKS_DIR / f"{workload}.json"


def load_network(nir_path: str | Path) -> Network:
    """A saved reference network: the NIR graph, with the metadata JSON beside it merged into ``metadata``."""
    nir_path = Path(nir_path)
    meta_path = nir_path.with_suffix(".json")
    if not nir_path.is_file():
        raise SpikebenchError(one_line(f"{nir_path}: reference network not found; train it with "
                                       f"'spikebench train {nir_path.stem}'"))
    net = Network.from_nir(nir_path)
    meta = dict(net.metadata)
    if meta_path.is_file():
        try:
            meta.update(json.loads(meta_path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise SpikebenchError(one_line(f"{meta_path}: not valid JSON ({exc})")) from None
    return Network(layers=net.layers, name=net.name, metadata=meta)


# ---- rate-coded classification ---------------------------------------------------------------------


def rate_predictions(output_spikes: np.ndarray) -> np.ndarray:
    """Class per sample from ``(samples, T, classes)`` output spikes: the neuron with most spikes.

    Ties (several neurons share the top count, including a silent output) give ``-1``: no decision,
    scored as wrong. (``SimulationResult.predictions`` picks the lowest index instead.)
    """
    out = np.asarray(output_spikes)
    if out.ndim != 3:
        raise SpikebenchError(f"output spikes must be (samples, timesteps, outputs), got shape {out.shape}")
    counts = out.sum(axis=1, dtype=np.int64)
    best = counts.max(axis=1, keepdims=True)
    winners = (counts == best).sum(axis=1)
    return np.where(winners == 1, counts.argmax(axis=1), -1)


# ---- logistic baseline, cached -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class LinearBaseline:
    """A fitted ``log1p -> standardise -> logistic regression`` on spike counts, as plain arrays."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray

    def decision(self, counts: np.ndarray) -> np.ndarray:
        z = (np.log1p(np.asarray(counts, dtype=np.float64)) - self.mean) / self.scale
        return z @ self.coef.T + self.intercept

    def predict(self, counts: np.ndarray) -> np.ndarray:
        d = self.decision(counts)
        if d.shape[1] == 1:
            return self.classes[(d[:, 0] > 0).astype(np.int64)]
        return self.classes[d.argmax(axis=1)]

    def score(self, counts: np.ndarray) -> np.ndarray:
        """Binary task: the decision value of class 1 (monotone in its probability)."""
        return self.decision(counts)[:, 0]

    def save(self, path: Path) -> None:
        import io

        from spikebench.core.fileio import atomic_write_bytes

        buf = io.BytesIO()
        np.savez(buf, **asdict(self))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> LinearBaseline:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in ("mean", "scale", "coef", "intercept", "classes")})


def fit_baseline(train_counts: np.ndarray, train_labels: np.ndarray, seed: int = 0) -> LinearBaseline:
    """Fit the metrics module's logistic baseline (lbfgs, L2, C = 1) and keep its arrays."""
    from .metrics import _fit_logistic

    model = _fit_logistic(train_counts, np.asarray(train_labels).astype(np.int64), seed)
    scaler, lr = model[1], model[2]
    return LinearBaseline(mean=scaler.mean_.copy(), scale=scaler.scale_.copy(), coef=lr.coef_.copy(),
                          intercept=lr.intercept_.copy(), classes=lr.classes_.copy())


def cached_baseline(cache_file: Path, fit) -> LinearBaseline:
    """The baseline stored at ``cache_file``, fitting (``fit()``) and storing it the first time."""
    if cache_file.is_file():
        try:
            return LinearBaseline.load(cache_file)
        except (OSError, ValueError, KeyError):
            pass
    model = fit()
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        model.save(cache_file)
    except (OSError, SpikebenchError):
        pass  # a read-only cache only costs a refit next time
    return model


def source_key(*parts) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:16]


# ---- training configuration ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LayerSpec:
    """One layer: width, recurrence and decay. ``beta`` is one value, or ``(low, high)``: per-neuron
    decays spaced evenly in that range (heterogeneous time constants, fixed, not trained)."""

    n_out: int
    recurrent: bool = False
    beta: float | tuple[float, float] = 0.9

    def betas(self) -> np.ndarray:
        if isinstance(self.beta, tuple | list):
            return np.linspace(self.beta[0], self.beta[1], self.n_out).astype(np.float32)
        return np.full(self.n_out, self.beta, dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Architecture and optimiser settings of one workload's reference network."""

    layers: tuple[LayerSpec, ...]
    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    init_gain: tuple[float, ...] = ()  # per layer multiplier of PyTorch's default Linear init
    class_weighted: bool = False
    surrogate_slope: float = 25.0
    cosine: bool = True  # cosine learning-rate decay to 0 over the epochs
    readout_start: int = 0  # output spikes count from this step on (ECG: the R peak)
    zero_bias: bool = True  # start biases at 0: with beta near 1 a bias b alone drives the membrane to b / (1 - beta)
    extra: dict = field(default_factory=dict)


def _torch_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _build(n_in: int, cfg: TrainConfig):
    import snntorch as snn
    import torch
    from snntorch import surrogate

    grad = surrogate.fast_sigmoid(slope=cfg.surrogate_slope)
    mods = torch.nn.ModuleList()
    prev = n_in
    for i, spec in enumerate(cfg.layers):
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
        prev = spec.n_out
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


def _forward(mods, x_sparse, T: int, B: int):
    """Output spikes ``(T, B, n_out)`` of the stack on a time-major sparse input."""
    import torch

    h = None
    for k, m in enumerate(mods):
        fc, lif = m["fc"], m["lif"]
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


def to_network(mods, cfg: TrainConfig, *, name: str, quantise: bool = True) -> tuple[Network, dict]:
    """The trained stack as an 8-bit, power-of-two-scaled spikebench Network (+ the scales used).

    ``quantise=False`` keeps the float32 weights (for diagnostics only: backends may then differ).
    """
    layers, scales = [], []
    quant = _quantise if quantise else (lambda w: (w.astype(np.float32), 0))
    grid = _on_grid if quantise else (lambda v, k: v.astype(np.float32))
    for i, (m, spec) in enumerate(zip(mods, cfg.layers)):
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


def _versions() -> dict:
    import snntorch
    import torch

    from spikebench import __version__

    return {"spikebench": __version__, "torch": torch.__version__, "snntorch": snntorch.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def train_workload(workload, *, data_dir: str | Path | None = None, epochs: int | None = None, seed: int = 0,
                   out_dir: str | Path | None = None, limit: int | None = None, test_limit: int | None = None,
                   data_seed: int = 0, require_real: bool = False, log=print, config: TrainConfig | None = None,
                   diagnose: bool = False) -> dict:
    """Train, quantise, evaluate and save ``workload``'s reference network; returns the metadata.

    ``seed`` drives initialisation and data order; ``data_seed`` picks the offline data set (and
    the ``limit`` subsets), 0 being the default data the shipped networks were trained on.
    ``limit``/``test_limit`` cap the train/held-out samples (quick runs); ``epochs`` overrides the
    workload's default; ``config`` replaces its :class:`TrainConfig`; ``diagnose`` also logs the
    unquantised network's metric. Files: ``<out_dir>/<workload.name>.nir`` and ``.json`` (default
    ``out_dir``: the current folder).
    """
    import torch

    cfg: TrainConfig = workload.train_config() if config is None else config
    n_epochs = cfg.epochs if epochs is None else int(epochs)
    if n_epochs < 1:
        raise TrainingError(f"epochs must be >= 1, got {epochs}")
    out = Path(out_dir) if out_dir is not None else Path(".")
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out}: exists and is not a folder")
    t_start = time.perf_counter()
    train = workload.load("train", data_dir=data_dir, require_real=require_real, limit=limit, seed=data_seed)
    test = workload.load("test", data_dir=data_dir, require_real=require_real, limit=test_limit, seed=data_seed)
    x = train.spikes
    y = np.asarray(train.labels, dtype=np.int64)
    log(f"{workload.name}: {x.samples} train / {test.spikes.samples} held-out samples "
        f"({train.provenance}); {x.timesteps} steps of {x.timestep_s * 1e3:g} ms, {x.n} channels")

    threads = _torch_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    mods = _build(x.n, cfg)
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
            out_spk = _forward(mods, xb, x.timesteps, len(idx))
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
    train_s = time.perf_counter() - t_start

    net, quant = to_network(mods, cfg, name=f"{workload.name}-reference")
    if diagnose:
        fnet, _ = to_network(mods, cfg, name="float", quantise=False)
        log(f"  float32 (unquantised) network: {workload.evaluate_trained(fnet, train=train, test=test, seed=data_seed)['value']:.4f}")
    evaluation = workload.evaluate_trained(net, train=train, test=test, seed=data_seed)
    meta = {
        "schema": METADATA_SCHEMA,
        "workload": workload.name,
        "task": workload.task,
        "data": {"provenance": test.provenance, "source": _portable(test.source), "train_source": _portable(train.source),
                 "train_samples": x.samples,
                 "test_samples": test.spikes.samples, "seed": data_seed, "limit": limit, "test_limit": test_limit},
        "timestep_s": x.timestep_s,
        "timesteps": x.timesteps,
        "n_in": x.n,
        "architecture": {"sizes": net.sizes, "recurrent": [layer.recurrent for layer in net.layers],
                         "beta": [list(s.beta) if isinstance(s.beta, tuple) else s.beta for s in cfg.layers], "threshold": 1.0, "reset": "subtract",
                         "readout": workload.readout},
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
        "note": provenance_note(test.provenance),
        "versions": _versions(),
    }
    out.mkdir(parents=True, exist_ok=True)
    net_path = out / f"{workload.name}.nir"
    net.to_nir(net_path)
    from spikebench.core.fileio import atomic_write_text

    atomic_write_text(out / f"{workload.name}.json", json.dumps(meta, indent=1, sort_keys=True, default=_json_default) + "\n")
    meta["total_time_s"] = round(time.perf_counter() - t_start, 2)
    return meta


def _portable(text: str) -> str:
    """A source line without this machine's cache or home folder in it (shipped metadata)."""
    from .data import cache_root

    return text.replace(str(cache_root()), "<cache>").replace(str(Path.home()), "~")


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def check_name(name: str, known) -> None:
    if name not in known:
        raise UnknownNameError(f"unknown workload {name!r}; known: {', '.join(sorted(known))}")


__all__ = [
    "NETWORKS_DIR", "METADATA_SCHEMA", "SYNTHETIC_NOTE", "TrainingError", "provenance_note", "shipped_paths",
    "load_network", "rate_predictions", "LinearBaseline", "fit_baseline", "cached_baseline", "source_key",
    "LayerSpec", "TrainConfig", "to_network", "train_workload",
]
