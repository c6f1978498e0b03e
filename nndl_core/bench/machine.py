"""What a benchmark ran on: processor, load and package versions.

Every benchmark result carries this description beside its numbers, so that
a reader can tell which machine and which versions produced them.
"""

import os
import platform
from importlib import metadata

import numpy as np

__all__ = ["describe_machine"]


def describe_machine():
    """The machine and the versions that a benchmark's numbers come from.

    Returns
    -------
    dict
        ``cpu_count``, ``processor``, ``platform``, ``load_average`` (None
        where the system has none) and ``versions`` (Python, NumPy, Numba and
        PyTorch; None for a package that is not installed).
    """
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("numba", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }
