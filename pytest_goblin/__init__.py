"""pytest-goblin: audit fine-tuning configs for wasted AMD Instinct GPU time, as pytest items."""

__version__ = "0.2.0"
