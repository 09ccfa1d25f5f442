"""The chip models: one estimate per chip, each chip's deploy (numeric format), and ``validate``."""

from __future__ import annotations

from ._shared import case, need

CHIP_NAMES = ["loihi", "loihi2", "truenorth", "spinnaker2", "akida", "cpu", "gpu"]


class Estimate:
    """``CHIPS[chip].estimate(profile, counts)`` on the shipped N-MNIST network's counts (8 samples)."""

    params = (CHIP_NAMES,)
    param_names = ["chip"]
    version = "1"

    def setup_cache(self):
        import spikebench as sb

        net, spikes = case("nmnist-dense", 8)
        return sb.simulate(net, spikes, backend="sparse-cpu").counts

    def setup(self, counts, chip):
        chips = need("spikebench.hardware_models", "CHIPS")
        profile_cls = need("spikebench.hardware_models", "NetworkProfile")
        if chip not in chips:
            raise NotImplementedError(f"no chip model {chip} in this commit")
        self.counts, self.profile, self.model = counts, profile_cls.from_counts(counts), chips[chip]

    def time_estimate(self, counts, chip):
        self.model.estimate(self.profile, self.counts)


class Deploy:
    """``deploy(chip, network)``: the shipped N-MNIST CSNN (conv + pool) in each chip's numeric format."""

    params = (CHIP_NAMES,)
    param_names = ["chip"]
    version = "1"
    timeout = 120

    def setup(self, chip):
        self.deploy = need("spikebench.hardware_models", "deploy")
        self.net, _ = case("nmnist-conv", 1)

    def time_deploy(self, chip):
        self.deploy(chip, self.net)


class Validate:
    """``spikebench validate``: every validation case of every chip model against its published figure."""

    version = "1"

    def setup(self):
        self.run_cases = need("spikebench.hardware_models.validation", "run_cases")

    def time_validate(self):
        self.run_cases()

    def track_cases_outside_band(self):
        """Enforced validation cases whose estimate falls outside the band of its evidence grade (stays 0)."""
        return sum(1 for r in self.run_cases() if r.enforced and not r.within_band)

    track_cases_outside_band.unit = "cases"

    def track_median_abs_error(self):
        """Median over all validation cases of |estimate - published| / published (the models' fit)."""
        import statistics

        return statistics.median(abs(r.error) for r in self.run_cases())

    track_median_abs_error.unit = "relative error"
