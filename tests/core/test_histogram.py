import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from palette_app.core import color_histogram, reduce_histogram


def _numpy_histogram(img, alpha_threshold=1):
    pix = img.reshape(-1, img.shape[2])
    if img.shape[2] == 4:
        pix = pix[pix[:, 3] >= alpha_threshold]
    keys = (pix[:, 0].astype(np.uint32) << 16) | (pix[:, 1].astype(np.uint32) << 8) | pix[:, 2]
    return np.unique(keys, return_counts=True)


def _keys(colors):
    return (colors[:, 0].astype(np.uint32) << 16) | (colors[:, 1].astype(np.uint32) << 8) | colors[:, 2]


def test_histogram_matches_numpy_on_a_photo(china):
    h = color_histogram(china)
    keys, counts = _numpy_histogram(china)
    assert np.array_equal(_keys(h.colors), keys)
    assert np.array_equal(h.counts, counts)
    assert h.n_transparent == 0
    assert h.counts.sum() == china.shape[0] * china.shape[1]


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([3, 4]))),
       st.integers(0, 256))
def test_histogram_matches_numpy_property(img, thr):
    h = color_histogram(img, alpha_threshold=thr)
    keys, counts = _numpy_histogram(img, thr)
    assert np.array_equal(_keys(h.colors), keys)
    assert np.array_equal(h.counts, counts)
    assert h.n_transparent + int(h.counts.sum()) == img.shape[0] * img.shape[1]


def test_alpha_threshold_leaves_out_transparent_pixels():
    img = np.zeros((2, 2, 4), np.uint8)
    img[..., :3] = [[[10, 20, 30], [10, 20, 30]], [[1, 2, 3], [200, 0, 0]]]
    img[..., 3] = [[255, 0], [127, 128]]
    h = color_histogram(img, alpha_threshold=128)
    assert h.n_transparent == 2
    assert sorted(map(tuple, h.colors.tolist())) == [(10, 20, 30), (200, 0, 0)]
    assert h.counts.tolist() == [1, 1]


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)])
def test_bad_images_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="image"):
        color_histogram(bad)


def test_reduce_histogram_keeps_exact_sums(china):
    h = color_histogram(china)
    X, w = reduce_histogram(h.colors, h.counts, bits=5)
    assert w.sum() == h.counts.sum()
    # Weighted mean of all colors is preserved by the binning.
    exact = (h.colors.astype(np.float64) * h.counts[:, None]).sum(0)
    assert np.allclose((X.astype(np.float64) * w[:, None]).sum(0), exact, rtol=1e-6)
    # Plain numpy reference: one point per occupied 5-bit bin.
    bins = np.unique(_keys(h.colors >> 3))
    assert len(X) == len(bins)


def test_reduce_histogram_splits_heavy_bins():
    colors = np.array([[0, 0, 0], [1, 1, 1], [200, 200, 200], [201, 200, 200]], np.uint8)
    counts = np.array([1000, 1000, 1, 1])
    X, w = reduce_histogram(colors, counts, bits=4, split_weight=100)
    # The dark bin (weight 2000) stays as two exact colors, the light one merges.
    assert sorted(w.tolist()) == [2, 1000, 1000]
    assert any(np.allclose(x, [200.5, 200, 200]) for x in X)
