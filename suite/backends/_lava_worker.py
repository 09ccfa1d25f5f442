"""The Lava side of backend ``lava``: a standalone script run by the Python 3.10 of ``.venv-lava``.

    .venv-lava/bin/python -I _lava_worker.py IN.npz OUT.npz

It must not import spikebench (which needs Python 3.11): the main side
(:mod:`spikebench.backends.lava_backend`) writes every array this script needs into ``IN.npz`` and
reads ``OUT.npz`` back. Both are plain ``.npz`` files (no pickles).

The network is built once from Lava's own processes: per layer a ``Dense`` (or ``Sparse`` for an
expanded conv/pooling map) into a ``LIF``, a second ``Dense`` from the LIF's ``s_out`` back into its own
``a_in`` for recurrent layers (Lava sums the connections of one InPort); run with
``Loihi2SimCfg(select_tag="fixed_pt")`` (``PyLifModelBitAcc``, ``PyDenseModelBitAcc``) or
``"floating_pt"``. Two small I/O processes of our own (defined here, selected through the run
config's ``exception_proc_model_map``) feed the input spikes and record every layer's spikes: Lava's
``RingBuffer`` sink returns its data through ``Var.get``, which moves one element per message (about
20 us each), far slower than the simulation itself. The recorder writes its spikes to a file at the
final step.

Samples run one after another in one Lava runtime: ``run(RunSteps(steps))`` per sample, and between
samples every LIF's ``u``, ``v`` and every Dense's ``a_buff`` are set to zero with ``Var.set`` (the whole
state a Lava network carries from one step to the next), so no sample sees another's state.

IN.npz keys: ``mode`` ("fixed_pt"/"floating_pt"), ``samples``, ``steps`` (per sample), ``n_in``,
``in_ptr`` (``samples * steps + 1`` offsets into ``in_idx``: the input channels spiking at each global
step), ``n_layers``; per layer ``l``: ``n_l``, ``w_l`` (dense ``(n_out, n_in)``) or ``w_l_colptr``,
``w_l_rows``, ``w_l_data``, ``w_l_shape`` (CSC), ``wexp_l``, optionally ``r_l`` and ``rexp_l``
(recurrent), ``du_l``, ``dv_l``, ``vth_l``, ``bias_l`` and (fixed_pt) ``bexp_l``.
OUT.npz keys: per layer ``ptr_l`` (``samples * steps + 1``) and ``idx_l`` (int32 neurons spiking at
each global step), ``sim_s`` (seconds in ``run`` and the resets between samples), ``startup_s`` (reading
the input, importing Lava, building, compiling and starting its processes), ``lava_version``.
Errors: a traceback on stderr and exit code 1 (the last stderr line is the error).
"""

import os
import sys
import time

import numpy as np


def _report(path, message):
    """Append one line to the error file (read by the worker after the run)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(message.replace("\n", " ") + "\n")


def _define_io():
    """Our source and recorder processes and their Python models (lava imported lazily)."""
    from lava.magma.core.decorator import implements, requires
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort, PyOutPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort, OutPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.resources import CPU
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

    class SpikeSource(AbstractProcess):
        """Sends, at global step t (1-based), ones on the channels ``idx[ptr[t-1]:ptr[t]]``."""

        def __init__(self, *, n, ptr, idx, error_path):
            super().__init__(n=n, ptr=ptr, idx=idx, error_path=error_path)
            self.s_out = OutPort(shape=(n,))

    @implements(proc=SpikeSource, protocol=LoihiProtocol)
    @requires(CPU)
    class PySpikeSource(PyLoihiProcessModel):
        s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)

        def __init__(self, proc_params):
            super().__init__(proc_params)
            self._n = int(proc_params["n"])
            self._ptr = proc_params["ptr"]
            self._idx = proc_params["idx"]

        def run_spk(self):
            t = self.time_step - 1
            out = np.zeros(self._n, np.int32)
            try:
                if t + 1 < self._ptr.size:
                    out[self._idx[self._ptr[t]:self._ptr[t + 1]]] = 1
            except Exception as exc:  # an exception in a Lava process hangs the runtime: report it instead
                _report(self.proc_params["error_path"], f"input step {t}: {type(exc).__name__}: {exc}")
            self.s_out.send(out)

    class SpikeRecorder(AbstractProcess):
        """Keeps the indices that are non-zero at every step; writes them to ``path`` at step ``total``."""

        def __init__(self, *, n, total, path, error_path):
            super().__init__(n=n, total=total, path=path, error_path=error_path)
            self.a_in = InPort(shape=(n,))

    @implements(proc=SpikeRecorder, protocol=LoihiProtocol)
    @requires(CPU)
    class PySpikeRecorder(PyLoihiProcessModel):
        a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)

        def __init__(self, proc_params):
            super().__init__(proc_params)
            self._total = int(proc_params["total"])
            self._path = str(proc_params["path"])
            self._parts = []

        def run_spk(self):
            self._parts.append(np.flatnonzero(self.a_in.recv()).astype(np.int32))
            if self.time_step == self._total:
                try:
                    ptr = np.zeros(len(self._parts) + 1, np.int64)
                    np.cumsum([p.size for p in self._parts], out=ptr[1:])
                    idx = np.concatenate(self._parts) if self._parts else np.zeros(0, np.int32)
                    tmp = self._path + ".part.npz"
                    np.savez(tmp, ptr=ptr, idx=idx)
                    os.replace(tmp, self._path)
                except Exception as exc:  # as above: never raise inside a Lava process
                    _report(self.proc_params["error_path"], f"recording {self._path}: {type(exc).__name__}: {exc}")

    return SpikeSource, PySpikeSource, SpikeRecorder, PySpikeRecorder


def _connection(data, key, wexp, fixed):
    """A Dense (dense matrix under ``key``) or Sparse (CSC arrays ``key_colptr/_rows/_data/_shape``) process."""
    from lava.proc.dense.process import Dense

    kw = {"weight_exp": int(wexp)} if fixed else {}
    dtype = np.int32 if fixed else np.float64
    if key in data:
        return Dense(weights=data[key].astype(dtype), **kw)
    from lava.proc.sparse.process import Sparse
    from scipy.sparse import csc_matrix

    w = csc_matrix((data[key + "_data"].astype(dtype), data[key + "_rows"], data[key + "_colptr"]),
                   shape=tuple(int(v) for v in data[key + "_shape"]))
    return Sparse(weights=w.tocsr(), **kw)


def run(data, work_dir, t_start):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.lif.process import LIF

    SpikeSource, PySpikeSource, SpikeRecorder, PySpikeRecorder = _define_io()
    mode = str(data["mode"])
    fixed = mode == "fixed_pt"
    samples, steps = int(data["samples"]), int(data["steps"])
    total = samples * steps
    n_layers = int(data["n_layers"])
    errors = os.path.join(work_dir, "io_errors.txt")
    source = SpikeSource(n=int(data["n_in"]), ptr=data["in_ptr"].astype(np.int64), idx=data["in_idx"].astype(np.int64),
                         error_path=errors)
    models = {source: PySpikeSource}
    prev, lifs, conns, paths = source.s_out, [], [], []
    for l in range(n_layers):
        n = int(data[f"n_{l}"])
        if fixed:
            lif = LIF(shape=(n,), du=data[f"du_{l}"].astype(np.int64), dv=data[f"dv_{l}"].astype(np.int64),
                      vth=data[f"vth_{l}"].astype(np.int64), bias_mant=data[f"bias_{l}"].astype(np.int64),
                      bias_exp=data[f"bexp_{l}"].astype(np.int64))
        else:
            lif = LIF(shape=(n,), du=data[f"du_{l}"].astype(np.float64), dv=data[f"dv_{l}"].astype(np.float64),
                      vth=data[f"vth_{l}"].astype(np.float64), bias_mant=data[f"bias_{l}"].astype(np.float64),
                      bias_exp=np.zeros(n))
        ff = _connection(data, f"w_{l}", data[f"wexp_{l}"], fixed)
        prev.connect(ff.s_in)
        ff.a_out.connect(lif.a_in)
        conns.append(ff)
        if f"r_{l}" in data:
            rc = _connection(data, f"r_{l}", data[f"rexp_{l}"], fixed)
            lif.s_out.connect(rc.s_in)
            rc.a_out.connect(lif.a_in)
            conns.append(rc)
        path = os.path.join(work_dir, f"spikes_{l}.npz")
        recorder = SpikeRecorder(n=n, total=total, path=path, error_path=errors)
        lif.s_out.connect(recorder.a_in)
        models[recorder] = PySpikeRecorder
        paths.append(path)
        lifs.append(lif)
        prev = lif.s_out
    cfg = Loihi2SimCfg(select_tag=mode, exception_proc_model_map=models)
    root = lifs[0]
    sim = 0.0
    started = False
    try:
        root.create_runtime(run_cfg=cfg)
        started = True
        startup = time.perf_counter() - t_start
        for b in range(samples):
            t1 = time.perf_counter()
            if b:
                for lif in lifs:
                    lif.u.set(np.zeros(lif.u.shape))
                    lif.v.set(np.zeros(lif.v.shape))
                for c in conns:
                    c.a_buff.set(np.zeros(c.a_buff.shape))
            root.run(condition=RunSteps(num_steps=steps))
            sim += time.perf_counter() - t1
    finally:
        if started or root.runtime is not None:
            root.stop()
    if os.path.exists(errors):
        with open(errors, encoding="utf-8") as f:
            raise RuntimeError(f"a Lava I/O process failed: {f.readline().strip()}")
    out = {"sim_s": np.float64(sim), "startup_s": np.float64(startup)}
    for l, path in enumerate(paths):
        with np.load(path, allow_pickle=False) as f:
            if f["ptr"].size != total + 1:
                raise RuntimeError(f"layer {l}: the recorder saw {f['ptr'].size - 1} steps, expected {total}")
            out[f"ptr_{l}"] = f["ptr"]
            out[f"idx_{l}"] = f["idx"]
    return out


def main(argv):
    t_start = time.perf_counter()
    if len(argv) != 3:
        sys.stderr.write("usage: _lava_worker.py IN.npz OUT.npz\n")
        return 2
    in_path, out_path = argv[1], argv[2]
    with np.load(in_path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    out = run(data, os.path.dirname(os.path.abspath(out_path)), t_start)
    try:
        from importlib.metadata import version

        out["lava_version"] = np.array(version("lava-nc"))
    except Exception:  # a source checkout of Lava has no distribution metadata
        out["lava_version"] = np.array("unknown")
    tmp = out_path + ".part.npz"
    np.savez(tmp, **out)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
