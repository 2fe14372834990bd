"""pytest-goblin: audit fine-tuning configs for wasted AMD Instinct GPU time, as pytest items."""

__version__ = "0.1.0"
