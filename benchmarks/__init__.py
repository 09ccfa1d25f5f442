"""spikebench's asv suite (run with ``make asv``; see the README, "Tracking over commits with asv").

Thin and deterministic: each ``setup`` builds seeded input from the installed package alone and
raises ``NotImplementedError`` (asv: skipped) when an optional part is missing. ``time_*`` and
``peakmem_*`` follow spikebench's own speed and memory; ``track_*`` follow what a network costs and
how well it does (task error, events, each chip's modelled energy and latency), all quantities where
a rise is a regression. Every benchmark sets ``version`` so that editing its code keeps its history.
"""
