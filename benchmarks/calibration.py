"""Print the projection's error against published training throughput (docs/projection.md).

    python benchmarks/calibration.py

Each row is a published measurement (source linked) re-expressed as a native goblin workload;
"projected" is runner/projection.py at its nominal assumptions, and the range spans the
assumption grid that also gives audits their interval. A second table follows: the held-out
published runs (calibration_rows.HELDOUT_MEASUREMENTS), which neither the fit nor the intervals saw;
docs/projection.md carries each between its own markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibration_rows import heldout_table, table

if __name__ == "__main__":
    print("<!-- calibration-table -->")
    print(table())
    print()
    print("<!-- heldout-table -->")
    print(heldout_table())
