#!/usr/bin/env bash
# One prepared GPU check (for a session lent a CUDA machine): the contract on CUDA, then the
# benchmark with snnTorch on CUDA at batch 1 and 64 beside the CPU methods. Needs torch with CUDA,
# numba, snntorch, nir and h5py importable (carry missing pure-Python packages as wheels).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/.sbsrc${PYTHONPATH:+:$PYTHONPATH}"
# map the three code folders onto the import root without installing
rm -rf .sbsrc && mkdir -p .sbsrc && ln -s "$PWD/suite" .sbsrc/spikebench
ln -s "$PWD/workloads" suite/workloads 2>/dev/null || true
ln -s "$PWD/hardware_models" suite/hardware_models 2>/dev/null || true
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_contract.py
python3 -m spikebench.bench --device cuda --rounds 3 --json "${OUT:-/tmp}/bench_cuda.json"
