"""Ground floor of spikebench: records and errors. Imports nothing else of ours."""

from .counts import SCHEMA as COUNTS_SCHEMA
from .counts import EventCounts, LayerCounts, count_from_activity, count_from_rasters
from .errors import (
    BackendUnavailableError,
    FileFormatError,
    InvalidNetworkError,
    InvalidSpikesError,
    SpikebenchError,
    UnknownNameError,
)
from .fixed_point import IntegerNeurons
from .network import Layer, Network
from .spikes import SpikeTrain, as_spike_train, random_spikes

__all__ = [
    "COUNTS_SCHEMA", "EventCounts", "LayerCounts", "count_from_activity", "count_from_rasters",
    "SpikebenchError", "InvalidNetworkError", "InvalidSpikesError", "UnknownNameError", "FileFormatError",
    "BackendUnavailableError", "IntegerNeurons", "Layer", "Network", "SpikeTrain", "as_spike_train", "random_spikes",
]
