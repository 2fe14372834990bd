"""Everything that executes or models a training step."""
