"""Hand-built results stores for the report tests (imported by the ``test_report*`` modules)."""

from __future__ import annotations

import csv

from spikebench.hardware_models import CHIPS
from spikebench.results import Provenance, ResultsStore, Row

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WORKLOADS = ("nmnist", "shd", "ecg-anomaly")
BACKENDS = ("sparse-cpu", "snntorch")
CHIP_NAMES = tuple(CHIPS)  # loihi, loihi2, truenorth, spinnaker2, akida, cpu, gpu

# energy per inference in µJ (nominal, low, high) per chip; workloads scale it
ENERGY_UJ = {"loihi": (12.3, 10.1, 15.3), "loihi2": (2.57, 1.81, 8.35), "truenorth": (3264, 102, 4080),
             "spinnaker2": (3867, 1987, 5968), "akida": (9.17, 8.27, 19.8), "cpu": (13.6, 1.09, 1129),
             "gpu": (267507, 107001, 532152)}
LATENCY_MS = {"loihi": (0.0479, 0.0446, 0.0880), "loihi2": (0.01, 0.01, 0.0233), "truenorth": (51, 2.43, 51),
              "spinnaker2": (50, 50, 50), "akida": (0.0792, 0.0733, 0.171), "cpu": (0.0114, 0.00114, 0.114),
              "gpu": (2.5, 1.0, 4.0)}
SCALE = {"nmnist": 1.0, "shd": 2.0, "ecg-anomaly": 0.5}


def prov() -> Provenance:
    return Provenance(spikebench_version="0.1.0", git_commit="abc1234", machine="test machine, 2 CPUs",
                      packages={"numpy": "2.0"})


def rows_of(workload: str, backend: str, data: str) -> list[Row]:
    common = {"workload": workload, "backend": backend, "data": data, "samples": 64, "seed": 0}
    rows = []
    if workload == "ecg-anomaly":
        rows += [Row(metric="auroc", value=0.91, low=0.87, high=0.94, unit="1", kind="task",
                     source="Moody & Mark 2001 (MIT-BIH), sample records", **common),
                 Row(metric="auprc", value=0.55, unit="1", kind="task", **common),
                 Row(metric="chance_auprc", value=0.12, unit="1", kind="task", **common),
                 Row(metric="chance_auroc", value=0.5, unit="1", kind="task", **common),
                 Row(metric="baseline_auroc", value=0.83, unit="1", kind="task", **common),
                 Row(metric="detection_latency_s", value=0.42, unit="s", kind="task", **common)]
    else:
        acc = {"nmnist": 0.875, "shd": 0.6125}[workload] + (0.0 if backend == "sparse-cpu" else 0.0015)
        rows += [Row(metric="accuracy", value=acc, low=acc - 0.04, high=acc + 0.04, unit="1", kind="task",
                     source="synthetic generator (seeded); layout of Orchard et al. 2015" if workload == "nmnist"
                     else "synthetic generator (seeded); layout of Cramer et al. 2020", **common),
                 Row(metric="chance_level", value=0.1 if workload == "nmnist" else 0.05, unit="1", kind="task", **common),
                 Row(metric="baseline_accuracy", value=0.71, unit="1", kind="task", **common)]
    rows += [Row(metric="wall_time_per_inference_s", value=0.0021 if backend == "sparse-cpu" else 0.0105, unit="s",
                 kind="measured", **common),
             Row(metric="synaptic_events_per_inference", value=8682.0 * SCALE[workload], unit="events",
                 kind="measured", **common),
             Row(metric="spikes_per_inference", value=82.0, unit="spikes", kind="measured", **common),
             Row(metric="neuron_updates_per_inference", value=1750.0, unit="updates", kind="measured", **common),
             Row(metric="input_spikes_per_inference", value=204.5, unit="spikes", kind="measured", **common),
             Row(metric="activity_layer1", value=0.0508, unit="1", kind="measured", source="rlif1 (recurrent, 40->30)",
                 **common),
             Row(metric="activity_layer2", value=0.023 + (0.001 if backend == "snntorch" else 0), unit="1",
                 kind="measured", source="lif2 (dense, 30->5)", **common)]
    for chip in CHIP_NAMES:
        s = SCALE[workload]
        e, lat = [v * s * 1e-6 for v in ENERGY_UJ[chip]], [v * 1e-3 for v in LATENCY_MS[chip]]
        c = {**common, "chip": chip, "kind": "modelled"}
        infeasible = chip == "akida" and workload == "shd"
        rows += [Row(metric="energy_j", value=e[0], low=e[1], high=e[2], unit="J", source=f"{chip} boundary", **c),
                 Row(metric="energy_dynamic_j", value=0.25 * e[0], low=0.25 * e[1], high=0.25 * e[2], unit="J", **c),
                 Row(metric="energy_static_j", value=0.75 * e[0], low=0.75 * e[1], high=0.75 * e[2], unit="J", **c),
                 Row(metric="latency_s", value=lat[0], low=lat[1], high=lat[2], unit="s", **c),
                 Row(metric="cores", value=2.0, unit="cores", **c),
                 Row(metric="chips", value=1.0, unit="chips", **c),
                 Row(metric="feasible", value=0.0 if infeasible else 1.0, unit="bool",
                     source="rlif1: recurrent layers are not supported by Akida 1.0; lif2: 8-bit weights"
                     if infeasible else "", **c)]
    return rows


def make_store(root, *, data=None):
    """3 workloads x 2 backends x 7 chips; ``data`` maps workload -> data tag."""
    data = data or {"nmnist": "synthetic", "shd": "synthetic", "ecg-anomaly": "real-sample"}
    store = ResultsStore(root).open(create=True)
    p = prov()
    run_id = store.start_run({"workloads": list(WORKLOADS)}, p)
    for w in WORKLOADS:
        for b in BACKENDS:
            store.write_cell(run_id, f"{w}__{b}", rows_of(w, b, data[w]), p)
    return root


def make_realistic_store(root):
    """Rows from the harness's own row builders: counts of a seeded network, every chip model's estimate."""
    import spikebench as sb
    from spikebench.hardware_models import estimate_all
    from spikebench.harness import counts_rows
    from spikebench.results import estimate_rows

    net = sb.Network.random(sizes=[40, 30, 5], recurrent=[True, False], seed=2)
    result = sb.simulate(net, sb.random_spikes(4, 50, 40, 0.1, seed=3))
    store = ResultsStore(root).open(create=True)
    run_id = store.start_run({}, prov())
    common = {"workload": "shd", "backend": "sparse-cpu", "data": "real-sample", "samples": 4, "seed": 0}
    rows = [Row(metric="accuracy", value=0.5, unit="1", kind="task", source="Cramer et al. 2020, sample", **common)]
    rows += counts_rows(result.counts, kind="measured", **common)
    rows += estimate_rows(estimate_all(result.counts, list(CHIPS)), **common)
    store.write_cell(run_id, "shd__sparse-cpu", rows, prov())
    return root



def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def built_report(tmp_path_factory, name: str, make=make_store):
    """``(out folder, written files)`` of a report on a fresh store made by ``make``."""
    from spikebench.report import build_report

    tmp = tmp_path_factory.mktemp(name)
    results = make(tmp / "results")
    return tmp / "out", build_report(results, tmp / "out")


# ---- several networks on one workload --------------------------------------------------------------

#: network -> (content hash, accuracy); chip -> (energy per inference in µJ, feasible)
NETWORKS = {
    "nmnist-reference": ("aaaa1111bbbb", 0.90, {"loihi": (150, True), "akida": (300, True), "cpu": (10000, True),
                                                "truenorth": (3000, False)}),
    "small": ("cccc2222dddd", 0.70, {"loihi": (100, True), "akida": (140, False), "cpu": (2600, True),
                                     "truenorth": (1000, True)}),
    "wide": ("eeee3333ffff", 0.95, {"loihi": (400, True), "akida": (250, True), "cpu": (20000, True),
                                    "truenorth": (5000, True)}),
}
#: By hand from NETWORKS (feasible pairs sorted by energy, kept while accuracy rises):
#: small/loihi (100 µJ, 0.70), nmnist-reference/loihi (150 µJ, 0.90), wide/akida (250 µJ, 0.95).
#: Dominated: akida/reference (300, 0.90), loihi/wide (400, 0.95), every truenorth and cpu pair; infeasible:
#: small/akida (140 µJ: cheaper than reference/loihi, but not mappable), reference/truenorth.
PARETO = [("small", "loihi"), ("nmnist-reference", "loihi"), ("wide", "akida")]


def network_rows(workload: str, network: str, *, data: str = "synthetic", backend: str = "sparse-cpu",
                 networks=None) -> list[Row]:
    """One network's cell: accuracy (±0.03), chance, baseline, input duration, counts, chip estimates."""
    h, acc, chips = (networks or NETWORKS)[network]
    common = {"workload": workload, "backend": backend, "data": data, "samples": 20, "seed": 0,
              "network": network, "network_hash": h}
    rows = [Row(metric="accuracy", value=acc, low=acc - 0.03, high=acc + 0.03, unit="1", kind="task",
                source=f"synthetic generator (seeded); network {network}", **common),
            Row(metric="chance_accuracy", value=0.1, unit="1", kind="task", **common),
            Row(metric="baseline_accuracy", value=0.8, unit="1", kind="task", **common),
            Row(metric="input_duration_s", value=0.3, unit="s", kind="measured", **common),
            Row(metric="wall_time_per_inference_s", value=1e-4, unit="s", kind="measured", **common),
            Row(metric="synaptic_events_per_inference", value=1000.0 * len(network), unit="events", kind="measured",
                **common),
            Row(metric="spikes_per_inference", value=50.0, unit="spikes", kind="measured", **common),
            Row(metric="activity_layer1", value=0.01 * len(network), unit="1", kind="measured",
                source=f"lif1 ({network})", **common)]
    for chip, (uj, ok) in chips.items():
        e = uj * 1e-6
        c = {**common, "chip": chip, "kind": "modelled"}
        rows += [Row(metric="energy_j", value=e, low=0.8 * e, high=1.5 * e, unit="J", source=f"{chip} boundary", **c),
                 Row(metric="energy_dynamic_j", value=0.25 * e, low=0.2 * e, high=0.375 * e, unit="J", **c),
                 Row(metric="energy_static_j", value=0.75 * e, low=0.6 * e, high=1.125 * e, unit="J", **c),
                 Row(metric="latency_s", value=1e-3, low=0.8e-3, high=1.5e-3, unit="s", **c),
                 Row(metric="cores", value=2.0, unit="cores", **c),
                 Row(metric="chips", value=1.0, unit="chips", **c),
                 Row(metric="feasible", value=1.0 if ok else 0.0, unit="bool",
                     source="" if ok else f"lif1: does not fit {chip} ({network})", **c)]
    return rows


def make_networks_store(root, networks=None):
    """nmnist with every network of ``networks`` (default :data:`NETWORKS`), plus shd with its reference only
    (from :func:`rows_of`): one workload compares networks, the other reads as before."""
    store = ResultsStore(root).open(create=True)
    p = prov()
    run_id = store.start_run({"workloads": ["nmnist", "shd"]}, p)
    for n, (h, *_rest) in (networks or NETWORKS).items():
        cell = "nmnist__sparse-cpu" if n == "nmnist-reference" else f"nmnist__sparse-cpu__{n}-{h[:8]}"
        store.write_cell(run_id, cell, network_rows("nmnist", n, networks=networks), p)
    store.write_cell(run_id, "shd__sparse-cpu", rows_of("shd", "sparse-cpu", "synthetic"), p)
    return root


# ---- chips that deploy the network in their numeric format ------------------------------------------

#: chip -> (accuracy on chip or None, basis, synaptic events per inference on chip, energy µJ, deployment notes,
#: arithmetic, why infeasible). The float network: accuracy 0.95, 10,000 events per inference.
DEPLOYED = {
    "loihi": (0.93, "deployed", 9000.0, 12.0, ("weights of lif1: 8-bit mantissa [@davies2018, p. 87]",
                                               "reset to zero", "one step of synaptic delay"), "loihi-fixed", ""),
    "loihi2": (0.80, "deployed", 6000.0, 2.0, ("weights of lif1: 8-bit mantissa", "reset to zero",
                                               "one step of synaptic delay"), "loihi2-fixed", ""),
    "akida": (None, "infeasible", None, 9.0, (), "akida-int4", "rlif1: recurrent layers are not supported"),
    "cpu": (0.95, "float", 10000.0, 14.0, ("runs the float32 network as trained",), "float32", ""),
    "gpu": (0.95, "float", 10000.0, 250000.0, ("runs the float32 network as trained",), "float32", ""),
}
FLOAT_ACCURACY, FLOAT_EVENTS = 0.95, 10000.0


def deployed_rows(workload: str = "nmnist", *, backend: str = "sparse-cpu", chips=None, network: str = "",
                  network_hash: str = "0123456789ab", accuracy: float = FLOAT_ACCURACY) -> list[Row]:
    """One cell as the harness writes it since chips deploy the network: the float network's task and counts
    rows (chip-less; accuracy ``accuracy``), then per chip ``deployment_changes``, the deployed task and counts
    rows (chip set) and the estimate (``chips``, default :data:`DEPLOYED`)."""
    common = {"workload": workload, "backend": backend, "data": "synthetic", "samples": 50, "seed": 0,
              "network": network or f"{workload}-reference", "network_hash": network_hash}
    src = "synthetic generator (seeded)"
    rows = [Row(metric="accuracy", value=accuracy, low=accuracy - 0.03, high=accuracy + 0.02, unit="1",
                kind="task", source=src, **common),
            Row(metric="chance_accuracy", value=0.1, unit="1", kind="task", **common),
            Row(metric="baseline_accuracy", value=0.7, unit="1", kind="task", **common),
            Row(metric="input_duration_s", value=0.3, unit="s", kind="measured", **common),
            Row(metric="wall_time_per_inference_s", value=1e-4, unit="s", kind="measured", **common),
            Row(metric="synaptic_events_per_inference", value=FLOAT_EVENTS, unit="events", kind="measured", **common),
            Row(metric="spikes_per_inference", value=50.0, unit="spikes", kind="measured", **common),
            Row(metric="activity_layer1", value=0.02, unit="1", kind="measured", source="lif1 (dense, 40->10)",
                **common)]
    for chip, (acc, basis, events, uj, notes, arithmetic, why) in (chips or DEPLOYED).items():
        c = {**common, "chip": chip}
        rows.append(Row(metric="deployment_changes", value=float(len(notes)), unit="notes", kind="modelled",
                        source=f"{arithmetic}: " + " | ".join(notes) if notes else arithmetic, **c))
        if basis == "deployed":
            rows.append(Row(metric="accuracy", value=acc, low=acc - 0.03, high=acc + 0.03, unit="1", kind="task",
                            source=f"deployed on {chip} ({arithmetic}; {len(notes)} changes), simulated bit-exactly "
                                   f"by sparse-cpu over 301 steps; {src}", **c))
        elif basis == "float":
            rows.append(Row(metric="accuracy", value=acc, low=acc - 0.03, high=acc + 0.02, unit="1", kind="task",
                            source=f"float32 network as trained, on {chip}; {src}", **c))
        if events is not None:
            rows += [Row(metric="synaptic_events_per_inference", value=events, unit="events", kind="measured", **c),
                     Row(metric="spikes_per_inference", value=events / 200, unit="spikes", kind="measured", **c),
                     Row(metric="activity_layer1", value=0.02 * events / FLOAT_EVENTS, unit="1", kind="measured",
                         source="lif1 (dense, 40->10)", **c)]
        e = uj * 1e-6
        m = {**c, "kind": "modelled"}
        rows += [Row(metric="energy_j", value=e, low=0.8 * e, high=1.5 * e, unit="J", source=f"{chip} boundary", **m),
                 Row(metric="energy_dynamic_j", value=0.25 * e, low=0.2 * e, high=0.375 * e, unit="J", **m),
                 Row(metric="energy_static_j", value=0.75 * e, low=0.6 * e, high=1.125 * e, unit="J", **m),
                 Row(metric="latency_s", value=1e-3, low=0.8e-3, high=1.5e-3, unit="s", **m),
                 Row(metric="cores", value=2.0, unit="cores", **m),
                 Row(metric="chips", value=1.0, unit="chips", **m),
                 Row(metric="feasible", value=0.0 if why else 1.0, unit="bool",
                     source=f"numeric format: {why}" if why else "", **m)]
    return rows


def make_deployed_store(root, chips=None):
    """nmnist on sparse-cpu, its reference network deployed on the chips of :data:`DEPLOYED`."""
    store = ResultsStore(root).open(create=True)
    run_id = store.start_run({"workloads": ["nmnist"]}, prov())
    store.write_cell(run_id, "nmnist__sparse-cpu", deployed_rows(chips=chips), prov())
    return root


#: A second network, "small", deployed on three chips (as :data:`DEPLOYED`); its float accuracy is 0.88.
SMALL = {
    "loihi2": (0.85, "deployed", 3000.0, 1.0, ("weights of lif1: 8-bit mantissa",), "loihi2-fixed", ""),
    "loihi": (0.86, "deployed", 3200.0, 5.0, ("weights of lif1: 8-bit mantissa",), "loihi-fixed", ""),
    "cpu": (0.88, "float", 4000.0, 7.0, ("runs the float32 network as trained",), "float32", ""),
}
#: By hand (feasible pairs by energy µJ, kept while the deployed accuracy rises): small/loihi2 (1, 0.85),
#: [reference/loihi2 (2, 0.80) dominated], small/loihi (5, 0.86), small/cpu (7, 0.88), reference/loihi (12, 0.93),
#: reference/cpu (14, 0.95); reference/gpu (250000, 0.95) is not better; reference/akida cannot hold the network.
#: On the float accuracies (0.88, 0.95) the front would be small/loihi2, reference/loihi2 only.
DEPLOYED_PARETO = [("small", "loihi2"), ("small", "loihi"), ("small", "cpu"), ("nmnist-reference", "loihi"),
                   ("nmnist-reference", "cpu")]


def make_deployed_networks_store(root):
    """nmnist with its reference network (:data:`DEPLOYED`) and "small" (:data:`SMALL`), both deployed."""
    store = ResultsStore(root).open(create=True)
    run_id = store.start_run({"workloads": ["nmnist"]}, prov())
    store.write_cell(run_id, "nmnist__sparse-cpu", deployed_rows(), prov())
    store.write_cell(run_id, "nmnist__sparse-cpu__small-abcdef01",
                     deployed_rows(chips=SMALL, network="small", network_hash="abcdef012345", accuracy=0.88), prov())
    return root

