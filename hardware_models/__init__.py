"""spikebench chip cost models (filled by the chip-model issue)."""
