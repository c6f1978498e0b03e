"""Shared test vectors for chapter 4: Python computes them, the browser checks the JS.

``nndl_core.universality`` and ``book/_static/widgets/universality.js`` build
the same networks. This script records, for a set of cases, what the Python
library returns (the weights it builds and the outputs they give); the browser
test (tests/browser/test_chap4_widgets.py) loads the JSON, calls the JS port
on the same arguments and compares. ``tests/test_universality.py`` fails when
the stored file no longer matches the library, so the two sides cannot drift.

    python -m _build_tools.universality_vectors      # rewrite the JSON file
"""

import json
import sys
from pathlib import Path

import numpy as np

from nndl_core import universality as u

OUT = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "browser"
    / "universality_vectors.json"
)

X_1D = [0.0, 0.1, 0.25, 0.3999, 0.4, 0.4001, 0.5, 0.61, 0.77, 0.99, 1.0]
X_2D = [
    [0.0, 0.0],
    [0.2, 0.9],
    [0.4, 0.3],
    [0.5, 0.5],
    [0.45, 0.35],
    [0.9, 0.65],
    [1, 1],
]
Z = [-1000.0, -30.0, -2.5, -1e-3, 0.0, 1e-3, 0.7, 2.0, 30.0, 700.0]

FUNCTIONS = {"goal": u.goal_function, "goal2d": u.goal_function_2d}


def _case(name, call, args, net, points):
    """One case: the JS call, the Python net's weights and outputs at ``points``."""
    return {
        "name": name,
        "call": call,
        "args": args,
        "net": net.to_dict(),
        "points": points,
        "expected": np.asarray(u.evaluate(net, points)).tolist(),
    }


def network_cases():
    """Cases whose result is a network: ``call`` names the JS builder."""
    f1 = FUNCTIONS["goal"]
    two = u.parallel_sum(
        [u.step_net(0.3), u.bump_net(0.5, 0.8, -1.5)], output="sigmoid"
    )
    return [
        _case("single neuron", "singleNeuron", [8, -4], u.single_neuron(8, -4), X_1D),
        _case(
            "sigmoid-like neuron",
            "singleNeuron",
            [6, -3, "sigmoid_like"],
            u.single_neuron(6, -3, "sigmoid_like"),
            X_1D,
        ),
        _case(
            "relu neuron",
            "singleNeuron",
            [2, -1, "relu"],
            u.single_neuron(2, -1, "relu"),
            X_1D,
        ),
        _case(
            "2-input neuron",
            "singleNeuron",
            [[8, 3], -5],
            u.single_neuron([8, 3], -5),
            X_2D,
        ),
        _case("step", "stepNet", [0.4], u.step_net(0.4), X_1D),
        _case("soft step", "stepNet", [0.4, 20], u.step_net(0.4, 20), X_1D),
        _case(
            "two weighted steps",
            "weightedStepsNet",
            [[0.4, 0.6], [0.6, 1.2]],
            u.weighted_steps_net([0.4, 0.6], [0.6, 1.2]),
            X_1D,
        ),
        _case("bump", "bumpNet", [0.4, 0.6, 0.8], u.bump_net(0.4, 0.6, 0.8), X_1D),
        _case(
            "double bump",
            "bumpsNet",
            [[[0.4, 0.6], [0.7, 0.9]], [-1.2, 0.3]],
            u.bumps_net([[0.4, 0.6], [0.7, 0.9]], [-1.2, 0.3]),
            X_1D,
        ),
        _case(
            "bumps, two outputs, sigmoid",
            "bumpsNet",
            [
                [[0.1, 0.5], [0.5, 0.9]],
                [[1.0, -1.0], [0.5, 2.0]],
                {"output": "sigmoid"},
            ],
            u.bumps_net(
                [[0.1, 0.5], [0.5, 0.9]], [[1.0, -1.0], [0.5, 2.0]], output="sigmoid"
            ),
            X_1D,
        ),
        _case(
            "tower construction, h = 5, b = -7.5",
            "weightedStepsNet",
            [
                [0.4, 0.6, 0.3, 0.7],
                [5, -5, 5, -5],
                {
                    "axes": [0, 0, 1, 1],
                    "nIn": 2,
                    "outputBias": -7.5,
                    "output": "sigmoid",
                },
            ],
            u.weighted_steps_net(
                [0.4, 0.6, 0.3, 0.7],
                [5, -5, 5, -5],
                axes=[0, 0, 1, 1],
                n_in=2,
                output_bias=-7.5,
                output="sigmoid",
            ),
            X_2D,
        ),
        _case(
            "tower 2-D",
            "towerNet",
            [[[0.4, 0.6], [0.3, 0.7]], 10],
            u.tower_net([[0.4, 0.6], [0.3, 0.7]], 10),
            X_2D,
        ),
        _case(
            "tower 3-D",
            "towerNet",
            [[[0.1, 0.6], [0.2, 0.7], [0.0, 0.5]]],
            u.tower_net([[0.1, 0.6], [0.2, 0.7], [0.0, 0.5]]),
            [[0.3, 0.3, 0.3], [0.3, 0.8, 0.3], [0.9, 0.9, 0.9]],
        ),
        _case(
            "grid towers",
            "gridTowersNet",
            [[[0.0, 0.5, 1.0], [0.0, 0.3, 1.0]], [[1.0, 2.0], [3.0, -4.0]]],
            u.grid_towers_net(
                [[0.0, 0.5, 1.0], [0.0, 0.3, 1.0]], [[1.0, 2.0], [3.0, -4.0]]
            ),
            X_2D,
        ),
        _case("parallel sum", "parallelSumExample", [], two, X_1D),
        _case(
            "approximate_1d, N = 5",
            "approximate1d",
            ["goal", 5, {}],
            u.approximate_1d(f1, 5),
            X_1D,
        ),
        _case(
            "approximate_1d, N = 7, w = 300, M = 3",
            "approximate1d",
            ["goal", 7, {"stepWeight": 300, "nShifts": 3}],
            u.approximate_1d(f1, 7, step_weight=300, n_shifts=3),
            X_1D,
        ),
        _case(
            "approximate_1d, linear output, [0.2, 0.9]",
            "approximate1d",
            ["goal", 4, {"interval": [0.2, 0.9], "output": "linear", "nShifts": 2}],
            u.approximate_1d(f1, 4, interval=(0.2, 0.9), output="linear", n_shifts=2),
            X_1D,
        ),
        _case(
            "approximate_2d, N = 3, M = 2",
            "approximate2d",
            ["goal2d", 3, {"nShifts": 2}],
            u.approximate_2d(FUNCTIONS["goal2d"], 3, n_shifts=2),
            X_2D,
        ),
    ]


def scalar_cases():
    """Cases whose result is a list of numbers."""
    x2 = np.asarray(X_2D)
    heights = [0.5, -1.0, 1.25, 0.0, 2.0]
    return [
        {
            "name": "sigmoid",
            "call": "sigmoid",
            "points": Z,
            "expected": u.sigmoid(np.asarray(Z)).tolist(),
        },
        {
            "name": "sigmoid_like",
            "call": "sigmoidLike",
            "points": Z,
            "expected": u.sigmoid_like(np.asarray(Z)).tolist(),
        },
        {"name": "relu", "call": "relu", "points": Z, "expected": u.relu(Z).tolist()},
        {
            "name": "logit",
            "call": "logit",
            "points": [1e-9, 0.1, 0.5, 0.73, 0.999999],
            "expected": u.logit([1e-9, 0.1, 0.5, 0.73, 0.999999]).tolist(),
        },
        {
            "name": "goal",
            "call": "goalFunction",
            "points": X_1D,
            "expected": u.goal_function(X_1D).tolist(),
        },
        {
            "name": "goal 2-D",
            "call": "goalFunction2d",
            "points": X_2D,
            "expected": u.goal_function_2d(x2).tolist(),
        },
        {
            "name": "shifted edges",
            "call": "shiftedEdges",
            "args": [[0, 1, 4, 0], [0, 1, 4, 0.5], [0.2, 0.9, 5, 1 / 3]],
            "expected": [
                u.shifted_edges(0, 1, 4, 0).tolist(),
                u.shifted_edges(0, 1, 4, 0.5).tolist(),
                u.shifted_edges(0.2, 0.9, 5, 1 / 3).tolist(),
            ],
        },
        {
            "name": "design error",
            "call": "designError",
            "args": [heights, [0, 0, 0, 0, 0]],
            "expected": [u.design_error(heights), u.design_error(np.zeros(5))],
        },
        {
            "name": "design solution",
            "call": "designSolution",
            "expected": u.design_solution().tolist(),
        },
    ]


def build_vectors():
    """Everything the JS test compares, as one JSON-ready dict."""
    return {
        "generated_by": "_build_tools/universality_vectors.py",
        "network_cases": network_cases(),
        "scalar_cases": scalar_cases(),
    }


def main(path=OUT):
    """Write the vectors to ``path`` (default: tests/browser/...vectors.json)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_vectors(), indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
