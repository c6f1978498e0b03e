"""Chapter 5's experiment registry and figure helpers (no training here)."""

import numpy as np

from nndl_core import experiments
from nndl_core import plotting_gradients as figures
from nndl_core.experiments import ch5


def test_depth_and_speed_experiments_run_the_books_settings():
    for hidden in (1, 2, 3, 4):
        exp = experiments.get(f"ch5.depth{hidden}")
        params = exp.profile("full").params
        assert params.sizes == (784,) + (30,) * hidden + (10,)
        assert (params.epochs, params.mini_batch_size, params.eta, params.lmbda) == (
            30,
            10,
            0.1,
            5.0,
        )
        assert exp.is_book_settings("default") and not exp.is_book_settings("ci")
        assert exp.book.value == ch5.BOOK_DEPTH_ACCURACY[hidden]
    for hidden in (2, 3, 4):
        params = experiments.get(f"ch5.speed_training{hidden}").profile("full").params
        assert (params.epochs, params.n_train, params.eta, params.lmbda) == (
            500,
            1000,
            0.1,
            5.0,
        )


def test_speed_ratio():
    norms = np.array([[0.01, 0.1, 1.0], [0.02, 0.1, 1.0]])
    np.testing.assert_allclose(ch5.speed_ratio(norms), [10.0, 5.0])


def test_figures_draw():
    import matplotlib.pyplot as plt

    norms = np.array([[0.01, 0.1, 1.0], [0.02, 0.2, 1.0]])
    for fig in (
        figures.plot_accuracy_by_depth({1: [0.9, 0.95]}, {1: 0.96}),
        figures.plot_initial_gradient_bars([[0.1, -0.2], [0.3, 0.4]]),
        figures.plot_speed_of_learning([0, 1], norms, "t", [0.01, 0.1]),
        figures.plot_sigmoid_prime(),
        figures.plot_unstable_width(
            np.array([4.0, 7.0]), np.array([0.0, 0.45]), 7.0, 0.45
        ),
        figures.plot_chain(3),
    ):
        assert fig.axes
        plt.close(fig)
