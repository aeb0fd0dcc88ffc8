"""What every benchmark records besides its figures: the machine it ran on and how busy it was
(the host may be shared), and where its results go."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine(**load: float) -> dict[str, Any]:
    """cpu count, platform, python, processor, the current load average, plus any named loads."""
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        **{name: round(value, 2) for name, value in load.items()},
    }


def write_results(name: str, figures: dict[str, Any]) -> Path:
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path
