import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from palette_app.core import Cancelled, FewerColorsWarning, MiniBatchKMeans, weighted_kmeans
from palette_app.core import kmeans as K


def _numpy_nearest(X, C):
    d2 = ((X[:, None, :].astype(np.float64) - C[None, :, :]) ** 2).sum(-1)
    return d2.argmin(1), d2.min(1)


# ---------------------------------------------------------------- kernels vs numpy
@pytest.mark.parametrize("n,k,d", [(5000, 16, 3), (5000, 200, 3), (3000, 7, 2), (500, 5, 6)])
def test_bounded_assignment_matches_numpy_over_moving_centers(n, k, d):
    rng = np.random.default_rng(1)
    X = (rng.random((n, d)) * 255).astype(np.float32)
    w = rng.integers(1, 5, n).astype(np.float64)
    lloyd = K._Lloyd(X, w, K._build_grid(X, k))
    C = (rng.random((k, d)) * 255).astype(np.float32)
    shift = np.zeros(k, np.float32)
    for _ in range(6):
        lloyd.assign(C, shift)
        ref, _ = _numpy_nearest(X, C)
        labels = lloyd.original_labels()
        got_d = ((X - C[labels]) ** 2).sum(1)
        ref_d = ((X - C[ref]) ** 2).sum(1)
        # Same nearest distance everywhere (labels may differ only on exact ties).
        assert np.allclose(got_d, ref_d, rtol=1e-5, atol=1e-3)
        # Incremental sums agree with a full recomputation.
        sums, wsums = lloyd.sums(k)
        full = np.zeros((k, d))
        np.add.at(full, labels, w[:, None] * X)
        assert np.allclose(sums, full, rtol=1e-9, atol=1e-6)
        assert np.allclose(wsums, np.bincount(labels, weights=w, minlength=k))
        new = C + rng.normal(0, 3, C.shape).astype(np.float32)
        shift = np.sqrt(((new - C).astype(np.float64) ** 2).sum(1)).astype(np.float32)
        C = new


def test_assign_labels_ties_go_to_lowest_index():
    X = np.array([[1.0, 0.0], [0.5, 0.0]], np.float32)
    C = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 0.0]], np.float32)
    labels, d2 = K.assign_labels(X, C)
    assert labels.tolist() == [0, 0]
    assert np.allclose(d2, [1.0, 0.25])


# ---------------------------------------------------------------- textbook cases
def test_two_obvious_groups_exact_centers_and_labels():
    X = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]], float)
    km = MiniBatchKMeans(2, random_state=0).fit(X)
    order = np.argsort(km.cluster_centers_[:, 0])
    assert np.allclose(km.cluster_centers_[order], [[1 / 3, 1 / 3], [31 / 3, 31 / 3]], atol=1e-5)
    labels = km.labels_
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]
    assert km.inertia_ == pytest.approx(8 / 3, rel=1e-5)


def test_far_outlier_gets_its_own_cluster_no_empty_no_nan():
    X = np.array([[0, 0], [1, 0], [3, 0], [100, 0]], float)
    km = MiniBatchKMeans(3, random_state=0).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert np.bincount(km.labels_, minlength=3).min() >= 1
    assert km.inertia_ == pytest.approx(0.5)
    got = sorted(map(tuple, np.round(km.cluster_centers_, 5).tolist()))
    assert got == [(0.5, 0.0), (3.0, 0.0), (100.0, 0.0)]


def test_fewer_distinct_points_than_clusters_warns():
    X = np.array([[1, 1], [1, 1], [5, 5]], float)
    with pytest.warns(FewerColorsWarning, match="only 2 distinct points"):
        km = MiniBatchKMeans(4, random_state=0).fit(X)
    assert km.cluster_centers_.shape == (4, 2)
    assert km.inertia_ == 0
    assert np.all(np.isfinite(km.cluster_centers_))


def test_weights_equal_repeated_points():
    rng = np.random.default_rng(3)
    U = rng.random((300, 3)).astype(np.float32) * 100
    counts = rng.integers(1, 6, 300)
    Xrep = np.repeat(U, counts, axis=0)
    a = MiniBatchKMeans(5, random_state=0, n_init=5).fit(U, sample_weight=counts)
    b = MiniBatchKMeans(5, random_state=0, n_init=5).fit(Xrep)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=0.02)
    # score() is the same objective on the same centers.
    assert -a.score(Xrep) == pytest.approx(a.inertia_, rel=1e-5)


# ---------------------------------------------------------------- against scikit-learn
def test_inertia_within_one_percent_of_sklearn_on_blobs():
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(4000, n_features=3, centers=12, cluster_std=2.5, random_state=7)
    ref = KMeans(12, n_init=10, random_state=0).fit(X).inertia_
    ours = MiniBatchKMeans(12, random_state=0).fit(X).inertia_
    assert ours <= 1.01 * ref


@pytest.mark.parametrize("k", [16, 64])
def test_inertia_within_one_percent_of_sklearn_on_a_color_histogram(china, k):
    from sklearn.cluster import KMeans

    from palette_app.core import color_histogram

    h = color_histogram(china[::2, ::2])
    X = h.colors.astype(np.float64)
    ref = KMeans(k, n_init=10, random_state=0).fit(X, sample_weight=h.counts).inertia_
    ours = MiniBatchKMeans(k, random_state=0, batch_size=1024).fit(X, sample_weight=h.counts).inertia_
    assert ours <= 1.01 * ref


# ---------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 400), st.integers(1, 12), st.integers(1, 4), st.integers(0, 2**16))
def test_labels_in_range_and_centers_inside_bounds(n, k, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 10, (n, d)).astype(np.float32)
    w = rng.random(n) + 0.01
    n_distinct = len(np.unique(X, axis=0))
    if k > n_distinct:
        with pytest.warns(FewerColorsWarning):
            km = MiniBatchKMeans(k, random_state=seed, n_init=1).fit(X, sample_weight=w)
    else:
        km = MiniBatchKMeans(k, random_state=seed, n_init=1).fit(X, sample_weight=w)
    C = km.cluster_centers_
    assert C.shape == (k, d) and np.all(np.isfinite(C))
    assert km.labels_.min() >= 0 and km.labels_.max() < k
    lo, hi = X.min(0), X.max(0)
    assert np.all(C >= lo - 1e-3) and np.all(C <= hi + 1e-3)
    # Labels are the nearest centers.
    ref, d2 = _numpy_nearest(X, C)
    assert np.allclose(((X - C[km.labels_]) ** 2).sum(1), d2, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------- determinism, cancellation
def test_same_seed_same_bits(china):
    from palette_app.core import color_histogram

    h = color_histogram(china)
    X = h.colors.astype(np.float32)
    a = weighted_kmeans(X, h.counts, 32, random_state=11)
    b = weighted_kmeans(X, h.counts, 32, random_state=11)
    c = weighted_kmeans(X, h.counts, 32, random_state=12)
    assert np.array_equal(a.centers, b.centers) and np.array_equal(a.labels, b.labels)
    assert a.inertia == b.inertia
    assert not np.array_equal(a.centers, c.centers)


def test_result_does_not_depend_on_thread_count(tmp_path):
    script = textwrap.dedent("""
        import sys, numpy as np, palette_app
        rng = np.random.default_rng(5)
        img = (rng.random((300, 400, 3)) ** 2 * 255).astype(np.uint8)
        r = palette_app.quantize(img, 24, random_state=3)
        sys.stdout.write(r.palette.colors.tobytes().hex() + r.indices.tobytes().hex()[:2000])
    """)
    outs = []
    for threads in ("1", "2"):
        env = dict(__import__("os").environ, NUMBA_NUM_THREADS=threads)
        outs.append(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                                   text=True, check=True).stdout)
    assert outs[0] == outs[1] and len(outs[0]) > 100


def test_callback_reports_progress_and_cancels():
    rng = np.random.default_rng(0)
    X = rng.random((20000, 3)).astype(np.float32)
    seen = []
    weighted_kmeans(X, None, 8, batch_size=256, callback=lambda p: seen.append(p))
    assert seen and seen[-1] == 1.0 and all(0 <= p <= 1 for p in seen)
    assert all(b >= a for a, b in zip(seen, seen[1:]))
    calls = []

    def stop(p):
        calls.append(p)
        return len(calls) < 3

    with pytest.raises(Cancelled):
        weighted_kmeans(X, None, 8, batch_size=256, callback=stop)
    assert len(calls) == 3


# ---------------------------------------------------------------- estimator surface
def test_estimator_surface():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(20, 1, (50, 2))])
    km = MiniBatchKMeans(2, random_state=0)
    assert km.get_params()["n_clusters"] == 2
    assert km.set_params(n_clusters=3) is km and km.n_clusters == 3
    km.set_params(n_clusters=2)
    labels = km.fit_predict(X)
    assert np.array_equal(km.predict(X), labels)
    T = km.transform(X)
    assert T.shape == (100, 2) and np.array_equal(T.argmin(1), labels)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-5)
    assert km.n_iter_ >= 1
    with pytest.raises(ValueError, match="invalid parameter"):
        km.set_params(bogus=1)
    with pytest.raises(ValueError, match="features"):
        km.predict(np.zeros((3, 5)))
    with pytest.raises(RuntimeError, match="not fitted"):
        MiniBatchKMeans(2).predict(X)


@pytest.mark.parametrize("X,kw,msg", [
    (np.zeros(5), {}, "2-D"),
    (np.array([[np.nan, 1.0]]), {}, "NaN"),
    (np.ones((3, 2)), {"sample_weight": [-1, 1, 1]}, "non-negative"),
    (np.ones((3, 2)), {"sample_weight": [1, 1]}, "shape"),
])
def test_estimator_rejects_bad_input(X, kw, msg):
    with pytest.raises(ValueError, match=msg):
        MiniBatchKMeans(2).fit(X, **kw)


def test_estimator_rejects_bad_params():
    with pytest.raises(ValueError, match="n_clusters"):
        MiniBatchKMeans(0).fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="tol"):
        MiniBatchKMeans(2, tol=-1).fit(np.ones((3, 2)))
