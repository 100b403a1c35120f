"""A scikit-learn-style estimator over :func:`~palette_app.core.kmeans.weighted_kmeans`."""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from palette_app.core.errors import FewerColorsWarning
from palette_app.core.kmeans import assign_labels, weighted_kmeans


class MiniBatchKMeans:
    """Weighted mini-batch k-means with a Lloyd polish, with scikit-learn's surface.

    Parameters
    ----------
    n_clusters : int, default 8
    n_init : int, default 1
        Independent runs (k-means++ seeds); the lowest inertia wins.
    max_iter : int, default 100
        Bound on mini-batch epochs.
    batch_size : int, default 1024
    tol : float, default 1e-4
        Stop when the total squared center shift is at most ``tol`` times
        the data's mean variance (as scikit-learn's ``KMeans``).
    max_no_improvement : int, default 10
        Mini-batches without improvement of the smoothed batch inertia before
        the mini-batch phase stops.
    reassignment_ratio : float, default 0.001
        Centers whose cumulative count falls below this fraction of the
        largest are moved to badly fitted points during the mini-batch phase.
    init_size : int or None
        Points drawn (by weight) for the k-means++ initialisation.
    polish_iter : int, default 100
        Bound on the full weighted Lloyd passes after the mini-batches.
    n_swaps : int or "auto", default "auto"
        Swap local-search trials after the polish: a badly fitted point
        replaces the center that costs least to remove, Lloyd re-converges,
        and the swap is kept only if the inertia went down. "auto" is
        ``min(2 * n_clusters, 48)``. This is what makes one run beat the best
        of ten plain k-means++/Lloyd runs on overlapping clusters.
    random_state : int, numpy Generator or None
        The same integer gives the same result, bit for bit.
    callback : callable(progress) -> bool or None
        Called between mini-batches and passes; return False to cancel
        (raises :class:`~palette_app.Cancelled`).

    Attributes
    ----------
    cluster_centers_ : (n_clusters, n_features) float32
    labels_ : (n_samples,) int32
    inertia_ : float, weighted sum of squared distances to the nearest center
    n_iter_ : int, Lloyd passes of the best run
    n_steps_ : int, mini-batch steps of the best run
    """

    def __init__(self, n_clusters=8, *, n_init=1, max_iter=100, batch_size=1024, tol=1e-4,
                 max_no_improvement=10, reassignment_ratio=0.001, init_size=None,
                 polish_iter=100, n_swaps="auto", random_state=None, callback=None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.reassignment_ratio = reassignment_ratio
        self.init_size = init_size
        self.polish_iter = polish_iter
        self.n_swaps = n_swaps
        self.random_state = random_state
        self.callback = callback

    # -- scikit-learn parameter protocol -------------------------------------------
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for MiniBatchKMeans; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k) is not v and defaults.get(k) != v]
        return f"MiniBatchKMeans({', '.join(changed)})"

    # -- validation ----------------------------------------------------------------
    def _check_params(self):
        def positive_int(name, minimum=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")
        positive_int("n_clusters")
        positive_int("n_init")
        positive_int("max_iter")
        positive_int("batch_size")
        positive_int("max_no_improvement")
        positive_int("polish_iter")
        if self.init_size is not None:
            positive_int("init_size")
        if self.n_swaps != "auto":
            positive_int("n_swaps", 0)
        if not (isinstance(self.tol, (int, float)) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}")
        if not (isinstance(self.reassignment_ratio, (int, float)) and 0 <= self.reassignment_ratio < 1):
            raise ValueError(f"reassignment_ratio must be in [0, 1), got {self.reassignment_ratio!r}")

    @staticmethod
    def _check_X(X, n_features=None):
        X = np.asarray(X)
        if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise ValueError(f"X must be numeric, got dtype {X.dtype}")
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X is empty (shape {X.shape})")
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity (or values too large for float32)")
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(f"X has {X.shape[1]} features, but the model was fitted with {n_features}")
        return X

    @staticmethod
    def _check_weight(sample_weight, n):
        if sample_weight is None:
            return np.ones(n, np.float64)
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(n, float(w))
        if w.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("sample_weight must be finite and non-negative")
        if w.sum() <= 0:
            raise ValueError("sample_weight must have a positive sum")
        return np.ascontiguousarray(w)

    def _check_fitted(self):
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError("this MiniBatchKMeans is not fitted yet; call fit() first")

    # -- fitting -------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering. ``y`` is ignored (scikit-learn convention)."""
        self._check_params()
        X = self._check_X(X)
        w = self._check_weight(sample_weight, X.shape[0])
        k = int(self.n_clusters)
        pos = w > 0
        distinct = np.unique(X[pos], axis=0)
        if distinct.shape[0] <= k:
            if distinct.shape[0] < k:
                warnings.warn(
                    f"only {distinct.shape[0]} distinct points (with positive weight) for "
                    f"n_clusters={k}: each distinct point becomes a center and the remaining "
                    f"{k - distinct.shape[0]} centers repeat the last one",
                    FewerColorsWarning, stacklevel=2)
            pad = np.repeat(distinct[-1:], k - distinct.shape[0], axis=0)
            centers = np.ascontiguousarray(np.vstack([distinct, pad]), np.float32)
            labels, d2 = assign_labels(X, centers)
            self.cluster_centers_ = centers
            self.labels_ = labels
            self.inertia_ = float(np.dot(w, d2))
            self.n_iter_ = 0
            self.n_steps_ = 0
        else:
            # Points with zero weight take no part in the clustering but are labelled.
            state = weighted_kmeans(X[pos], w[pos], k, n_init=int(self.n_init), max_iter=int(self.max_iter),
                                    batch_size=int(self.batch_size), tol=float(self.tol),
                                    max_no_improvement=int(self.max_no_improvement),
                                    reassignment_ratio=float(self.reassignment_ratio),
                                    init_size=self.init_size, polish_iter=int(self.polish_iter),
                                    n_swaps=min(2 * k, 48) if self.n_swaps == "auto" else int(self.n_swaps),
                                    random_state=self.random_state, callback=self.callback)
            self.cluster_centers_ = state.centers
            if pos.all():
                self.labels_ = state.labels
                self.inertia_ = state.inertia
            else:
                self.labels_, d2 = assign_labels(X, state.centers)
                self.inertia_ = float(np.dot(w, d2))
            self.n_iter_ = state.n_iter
            self.n_steps_ = state.n_steps
        self.n_features_in_ = X.shape[1]
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X):
        """Index of the nearest center for each row of X."""
        self._check_fitted()
        X = self._check_X(X, self.n_features_in_)
        return assign_labels(X, self.cluster_centers_)[0]

    def transform(self, X):
        """(n_samples, n_clusters) Euclidean distances to every center."""
        self._check_fitted()
        X = self._check_X(X, self.n_features_in_).astype(np.float64)
        C = self.cluster_centers_.astype(np.float64)
        d2 = (X * X).sum(1)[:, None] - 2 * X @ C.T + (C * C).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0.0))

    def fit_transform(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted inertia of X on the fitted centers (higher is better)."""
        self._check_fitted()
        X = self._check_X(X, self.n_features_in_)
        w = self._check_weight(sample_weight, X.shape[0])
        _, d2 = assign_labels(X, self.cluster_centers_)
        return -float(np.dot(w, d2.astype(np.float64)))
