"""nndl_core: the library behind an executable *Neural Networks and Deep Learning*.

The public modules hold readable NumPy references (the code the pages show);
:mod:`nndl_core.kernels` holds the Numba kernels tested equal to them.
Importing this package does not import Numba.
"""

from .activations import sigmoid, sigmoid_prime
from .costs import CrossEntropyCost, QuadraticCost
from .data import Dataset, MnistSplits, load_data, load_data_wrapper, load_mnist
from .network import Network
from .training import History, TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "CrossEntropyCost",
    "Dataset",
    "History",
    "MnistSplits",
    "Network",
    "QuadraticCost",
    "TrainingDivergedError",
    "load_data",
    "load_data_wrapper",
    "load_mnist",
    "sigmoid",
    "sigmoid_prime",
]
