"""spikebench workloads: N-MNIST, SHD and ECG anomaly detection (filled by the workloads issue)."""
