"""Curated ROCm performance rules and the hardware table (YAML data shipped in the wheel)."""
