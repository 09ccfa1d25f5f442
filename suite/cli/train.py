"""``spikebench train <workload>``: train a workload's reference SNN (snnTorch, CPU) and save it.

Writes ``<out>/<workload>.nir`` and ``<out>/<workload>.json`` (data provenance, held-out metric,
chance, baseline, seed, epochs, timestep, threshold, training time, versions). The shipped networks
in ``workloads/networks/`` were produced by this command with ``--out workloads/networks``.
``--format json`` prints the metadata document; ``--format csv`` one row per held-out metric.
"""

from __future__ import annotations

import json
import sys

from .common import FORMATS, MAX_EPOCHS, MAX_SEED, add_format, at_most, positive, seed, write_csv, write_json


def register(sub) -> None:
    p = sub.add_parser("train", help="train a workload's reference SNN and save it as NIR + metadata JSON",
                       description="Train the reference spiking network of a workload with snnTorch surrogate "
                                   "gradients on CPU, quantise it to 8-bit power-of-two-scaled weights, evaluate "
                                   "it with the sparse-cpu backend on the held-out split, and save it.")
    p.add_argument("workload", help="nmnist, shd or ecg-anomaly")
    p.add_argument("--variant", default=None,
                   help="train a second network the workload ships instead of its reference (nmnist: csnn, a small "
                        "convolutional SNN); saved as <workload>-<variant>.nir")
    p.add_argument("--data-dir", default=None,
                   help="folder with the real data (default: $SPIKEBENCH_DATA, else the offline synthetic data)")
    p.add_argument("--require-real", action="store_true", help="refuse synthetic data")
    p.add_argument("--epochs", type=int, default=None, help=f"training epochs, 1 to {MAX_EPOCHS} (default: the workload's)")
    p.add_argument("--seed", type=int, default=0,
                   help=f"seed of the initialisation and the data order, 0 to {MAX_SEED} (default 0)")
    p.add_argument("--data-seed", type=int, default=0,
                   help="seed of the offline synthetic data set (default 0: the data the shipped networks used)")
    p.add_argument("--out", default=".", help="folder for <workload>.nir and <workload>.json (default: .)")
    p.add_argument("--limit", type=int, default=None, help="use at most this many training samples (quick runs)")
    p.add_argument("--test-limit", type=int, default=None, help="evaluate on at most this many held-out samples")
    add_format(p, FORMATS)
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from spikebench.core.fileio import check_writable_folder
    from spikebench.training import train_workload
    from spikebench.workloads import get_workload

    wl = get_workload(args.workload)
    wl.check_variant(args.variant)
    at_most(args.epochs, "--epochs", MAX_EPOCHS, low=1)
    positive(args.limit, "--limit")
    positive(args.test_limit, "--test-limit")
    seed(args.seed)
    seed(args.data_seed, "--data-seed")
    out = Path(args.out)
    # before any training: the folder (or its nearest existing parent) must take the two files
    stem = wl.name if args.variant is None else f"{wl.name}-{args.variant}"
    check_writable_folder(out, what="--out folder", names=(f"{stem}.nir", f"{stem}.json"))
    log = print if args.format == "table" else (lambda *a, **k: print(*a, file=sys.stderr, **k))
    meta = train_workload(wl, data_dir=args.data_dir, epochs=args.epochs, seed=args.seed, data_seed=args.data_seed,
                          require_real=args.require_real, out_dir=out, limit=args.limit, test_limit=args.test_limit,
                          log=log, variant=args.variant)
    if args.format == "json":
        write_json(meta)
        return 0
    if args.format == "csv":
        write_csv({"workload": meta["workload"], "metric": k, "value": v, "data": meta["data"]["provenance"],
                   "test_samples": meta["data"]["test_samples"]} for k, v in sorted(meta["metrics"].items()))
        return 0
    print(f"{meta['workload']}: held-out {meta['metric']} {meta['value']:.4f} on {meta['data']['test_samples']} "
          f"samples ({meta['data']['provenance']} data); chance {json.dumps(meta['chance'])}; "
          f"baseline {json.dumps({k: v for k, v in meta['baseline'].items() if k != 'model'})}")
    if "threshold" in meta:
        print(f"decision threshold (chosen on the train split): {meta['threshold']:g}")
    print(f"training {meta['training']['training_time_s']:.1f} s, {meta['training']['epochs']} epochs, "
          f"{meta['training']['torch_threads']} torch threads; written "
          f"{out / (meta['workload'] + ('-' + meta['variant'] if meta.get('variant') else '') + '.nir')} and .json")
    print(meta["note"])
    return 0
