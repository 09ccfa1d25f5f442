#!/usr/bin/env bash
# One prepared GPU check (for a session lent a CUDA machine): the contract on CUDA, then the
# benchmark with snnTorch on CUDA at batch 1 and 64 beside the CPU methods. Needs torch with CUDA,
# numba, scipy, snntorch, nir, nirtorch and h5py importable (carry missing packages as wheels; scipy
# as the manylinux wheel for the device's Python). Conv networks on CUDA (TF32 and cuDNN off, so sums
# stay exact) are checked by the CUDA tests of tests/core/test_conv_interop.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/.sbsrc${PYTHONPATH:+:$PYTHONPATH}"
# assemble the import root from the three code folders without installing (a scratch copy)
rm -rf .sbsrc && mkdir -p .sbsrc && cp -r suite .sbsrc/spikebench
cp -r workloads .sbsrc/spikebench/workloads && cp -r hardware_models .sbsrc/spikebench/hardware_models
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -m pytest -q -p no:cacheprovider tests/backends/test_gpu.py tests/backends/test_backend_contract.py \
    tests/core/test_conv_interop.py
python3 -m spikebench.bench --device cuda --rounds 3 --json "${OUT:-/tmp}/bench_cuda.json"
