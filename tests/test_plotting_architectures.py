"""The KSH layer table, the numbers computed from it, and its diagram (Agg)."""

import matplotlib
import pytest

from nndl_core import plotting_architectures as pa

matplotlib.use("Agg")


def test_feature_map_sides_follow_the_paper():
    # KSH's figure 2: 55 x 55 maps after conv1, 27 x 27 after conv2, then 13 x 13;
    # the last pooling leaves 6 x 6 maps, so fc6 reads 256 * 6 * 6 = 9,216 inputs.
    expected = [(227, 227), (55, 27), (27, 13), (13, 13), (13, 13), (13, 6)]
    actual = pa.feature_map_sides()
    assert actual[:6] == expected
    assert actual[6:] == [(1, 1)] * 3


def test_parameter_count_is_the_papers_sixty_million():
    counts = pa.count_parameters()
    assert counts[0] == 0
    assert counts[1] == 96 * (11 * 11 * 3 + 1)
    assert counts[6] == 4096 * (256 * 6 * 6 + 1)  # fc6 holds most of the weights
    assert counts[-1] == 1000 * (4096 + 1)
    assert sum(counts) == 60_965_224  # "60 million parameters" in the paper


def test_an_input_side_the_windows_do_not_tile_is_refused():
    with pytest.raises(ValueError, match="such as 227"):
        pa.feature_map_sides(input_side=224)


def test_a_small_network_counts_like_a_hand_calculation():
    layers = (
        pa.Layer("input", "input", 1),
        pa.Layer("conv1", "conv", 20, kernel=5, in_maps=1, pool=False),
        pa.Layer("out", "softmax", 10),
    )
    assert pa.feature_map_sides(layers, input_side=28) == [(28, 28), (24, 24), (1, 1)]
    assert pa.count_parameters(layers, input_side=28) == [
        0,
        520,
        10 * (20 * 24 * 24 + 1),
    ]


def test_ksh_diagram_draws_every_layer_and_the_gpu_crossings():
    import matplotlib.pyplot as plt

    fig = pa.plot_ksh_architecture()
    (ax,) = fig.axes
    assert not ax.axison
    gids = [p.get_gid() for p in ax.patches if p.get_gid()]
    boxes = {
        g for g in gids if g.startswith("ksh-") and g not in ("ksh-within", "ksh-cross")
    }
    halves = {
        f"ksh-{layer.name}-gpu{k}" for layer in pa.KSH_LAYERS[1:-1] for k in (1, 2)
    }
    assert boxes == halves | {"ksh-input", "ksh-fc8"}
    # conv3, fc6 and fc7 read both GPUs: two crossing arrows each.
    assert gids.count("ksh-cross") == 6
    # input -> 2 halves, 5 GPU-to-GPU steps of 2 arrows each, 2 halves -> output.
    assert gids.count("ksh-within") == 2 + 2 * 6 + 2
    texts = " ".join(t.get_text() for t in ax.texts)
    for fact in ("11×11\nstride 4", "55×55", "4,096", "2,048", "1,000", "pool → 6×6"):
        assert fact in texts
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    fig.canvas.draw()
    plt.close(fig)
