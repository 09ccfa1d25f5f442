"""Speed and memory of simulation: the reference kernel, the public call, snnTorch (CPU, CUDA), Lava."""

from __future__ import annotations

# torch is a dependency of spikebench; imported at module level so that asv's forkserver holds it once
import torch  # noqa: F401

from ._shared import CASE_NAMES, case, cuda_or_skip, need


class Kernel:
    """The event-driven reference kernel (a prepared network's ``run``), one thread, JIT excluded.

    Cases: the README's random 2312-500-10 network (T = 300, 0.5 % input, as ``make bench``), the
    shipped N-MNIST dense network (2312-128-10, T = 300), the shipped recurrent SHD network
    (700-128r-20, T = 140) and the shipped N-MNIST CSNN (two conv + avg-pool layers, then dense;
    T = 10), on seeded Bernoulli input at each workload's input activity; batch 1 and 16.
    """

    params = (CASE_NAMES, [1, 16])
    param_names = ["network", "batch"]
    version = "1"
    timeout = 180

    def setup(self, network, batch):
        prepared_cls = need("spikebench.backends.sparse_cpu", "PreparedNetwork")
        net, self.spikes = case(network, batch)
        self.prepared = prepared_cls.build(net)
        self.prepared.run(self.spikes, threads=1)  # compile (or load the JIT cache) outside the timing

    def time_run(self, network, batch):
        self.prepared.run(self.spikes, threads=1)

    def peakmem_run(self, network, batch):
        self.prepared.run(self.spikes, threads=1)


class PublicSimulate:
    """``spikebench.simulate(net, spikes, backend="sparse-cpu")``: what a user's call costs, preparation included."""

    params = (CASE_NAMES, [1, 16])
    param_names = ["network", "batch"]
    version = "1"
    timeout = 180

    def setup(self, network, batch):
        import spikebench as sb

        self.sb = sb
        self.net, self.spikes = case(network, batch)
        sb.simulate(self.net, self.spikes, backend="sparse-cpu", threads=1)  # JIT outside the timing

    def time_simulate(self, network, batch):
        self.sb.simulate(self.net, self.spikes, backend="sparse-cpu", threads=1)


class SnnTorchCPU:
    """The snnTorch backend on the CPU (one torch thread), batch 1 and 16."""

    params = (CASE_NAMES, [1, 16])
    param_names = ["network", "batch"]
    version = "1"
    timeout = 300
    device = "cpu"

    def setup(self, network, batch):
        import spikebench as sb

        if self.device == "cuda":
            cuda_or_skip()
        need("snntorch")
        torch.set_num_threads(1)
        self.sb = sb
        self.net, self.spikes = case(network, batch)
        self._run()  # first call builds the torch modules

    def _run(self):
        res = self.sb.simulate(self.net, self.spikes, backend="snntorch", device=self.device)
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
        return res

    def time_simulate(self, network, batch):
        self._run()

    def peakmem_simulate(self, network, batch):
        self._run()


class SnnTorchCUDA(SnnTorchCPU):
    """The snnTorch backend on a CUDA device (skipped without one)."""

    device = "cuda"
    version = "1"

    def peakmem_simulate(self, network, batch):  # host memory says little about a GPU run
        raise NotImplementedError


class Lava:
    """The lava backend (Lava 0.10 bit-accurate Loihi 2 models, in .venv-lava): one SHD sample, the
    network deployed to Loihi 2's format. Skipped when the Lava environment is missing
    (``make lava-env``; in asv's own environments set ``SPIKEBENCH_LAVA_ENV``, as ``make asv`` does)."""

    version = "1"
    timeout = 600

    def setup(self):
        lava_available = need("spikebench.backends.lava_backend", "lava_available")
        if not lava_available():
            raise NotImplementedError("the Lava environment is missing (make lava-env)")
        import spikebench as sb

        deploy = need("spikebench.hardware_models", "deploy")
        net, spikes = case("shd-recurrent", 1)
        deployed = deploy("loihi2", net)
        if not deployed.feasible:
            raise NotImplementedError(f"the SHD network cannot be deployed to Loihi 2: {deployed.why}")
        self.sb, self.net, self.spikes = sb, deployed.network, spikes

    def time_simulate(self):
        self.sb.simulate(self.net, self.spikes, backend="lava")
