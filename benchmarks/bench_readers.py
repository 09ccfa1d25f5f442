"""Each workload reader's decode, on seeded files written in setup by the package's own writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._shared import need


class NmnistDecode:
    """N-MNIST ``.bin`` (40-bit events) into a structured array: 100 test samples' worth (450,000
    events, the offline data's mean of 4,500 per 300 ms saccade), decoded from bytes in memory."""

    version = "1"

    def setup(self):
        encode = need("spikebench.workloads.nmnist_format", "encode_events")
        self.decode = need("spikebench.workloads.nmnist_format", "decode_events")
        dtype = need("spikebench.workloads.nmnist_format", "EVENT_DTYPE")
        rng = np.random.default_rng(0)
        n = 450_000
        ev = np.zeros(n, dtype=dtype)
        ev["x"] = rng.integers(0, 34, n)
        ev["y"] = rng.integers(0, 34, n)
        ev["p"] = rng.integers(0, 2, n)
        ev["t_us"] = np.sort(rng.integers(0, 300_000, n))
        self.data = encode(ev)

    def time_decode(self):
        self.decode(self.data)

    def peakmem_decode(self):
        self.decode(self.data)


class ShdRead:
    """An SHD split file (HDF5, ragged spike times and units) read and validated: 200 seeded synthetic
    utterances written once per commit with ``write_shd``; ``read_shd`` as users call it (in an isolating
    subprocess) and in-process."""

    version = "1"
    timeout = 120

    def setup_cache(self):
        generate_split = need("spikebench.workloads.synth_shd", "generate_split")
        write_shd = need("spikebench.workloads.shd_format", "write_shd")
        path = Path("shd_test.h5").resolve()  # asv keeps setup_cache's working folder for the benchmarks
        write_shd(path, generate_split("test", 200, seed=0))
        return str(path)

    def setup(self, path):
        self.read_shd = need("spikebench.workloads.shd_format", "read_shd")

    def time_read(self, path):
        self.read_shd(path)

    def time_read_in_process(self, path):
        self.read_shd(path, isolate=False)


class EcgRead:
    """A 30-minute two-lead WFDB record (format 212 at 360 Hz, the MIT-BIH layout) and its beat
    annotations, read and checksum-verified: one seeded synthetic record written once per commit by
    ``generate_ecg``."""

    version = "1"
    timeout = 120

    def setup_cache(self):
        generate_ecg = need("spikebench.workloads.synth_ecg", "generate_ecg")
        out = Path("ecg").resolve()
        generate_ecg(out, n_records=1, duration_s=1800.0, seed=0, test_fraction=0.0)
        heads = sorted(out.rglob("*.hea"))
        if not heads:
            raise NotImplementedError("generate_ecg wrote no record in this commit")
        return str(heads[0].with_suffix(""))

    def setup(self, record):
        self.read_record = need("spikebench.workloads.wfdb_format", "read_record")
        self.read_annotations = need("spikebench.workloads.wfdb_annotations", "read_annotations")

    def time_read_record(self, record):
        self.read_record(record)

    def peakmem_read_record(self, record):
        self.read_record(record)

    def time_read_annotations(self, record):
        self.read_annotations(record + ".atr")
