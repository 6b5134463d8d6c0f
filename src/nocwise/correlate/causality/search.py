"""Greedy structure search over alarm types, scored by a penalised Hawkes likelihood.

The likelihood of a topological Hawkes process splits into one term per effect type, so adding
the edge u -> v only changes v's term. The search keeps, for every ordered pair, the gain in v's
log-likelihood from adding u to v's parents, adds the best edge whose gain beats the penalty
(BIC: ``hops * log(n_events) / 2`` per edge, as in THP) and keeps the graph acyclic, then refits
only v's candidates. Each step adds an edge or rules a pair out for good, so it ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class ChildData:
    """The events of one effect type: covariates, compensators and baseline exposure.

    ``x`` is (hops, n_events_v, n_types), ``g`` (hops, n_types), ``device`` indexes the
    devices that raise this type (0..n_dev-1), ``exposure`` is the observed span per device.
    """

    x: npt.NDArray[np.float64]
    g: npt.NDArray[np.float64]
    device: npt.NDArray[np.int64]
    n_dev: int
    exposure: float

    def touches(self) -> npt.NDArray[np.bool_]:
        """Types whose alarms excite at least one of this type's alarms.

        A type that never does cannot gain likelihood as a parent, so it is not fitted: with
        hundreds of alarm types most pairs never meet, and this skips them.
        """
        return np.asarray(self.x.sum(axis=(0, 1)) > 0, dtype=bool)


@dataclass(frozen=True, slots=True)
class ChildFit:
    """Maximum-likelihood intensity of one effect type for a given parent set."""

    loglik: float
    baseline: npt.NDArray[np.float64]  # per device of the child
    alpha: npt.NDArray[np.float64]  # (n_parents, hops)
    share: npt.NDArray[np.float64]  # fraction of the child's events each parent explains


def fit_child(data: ChildData, parents: list[int], max_iter: int, tol: float) -> ChildFit:
    """Fit baseline and excitations by EM (the branching-structure MM updates of Hawkes EM).

    The EM of Veen & Schoenberg (2008) and Lewis & Mohler (2011) for linear intensities: each
    update keeps the parameters non-negative and never lowers the likelihood, so no step size
    is needed.
    """
    hops = data.x.shape[0]
    n = data.x.shape[1]
    feats = np.ascontiguousarray(
        data.x[:, :, parents].transpose(1, 2, 0).reshape(n, len(parents) * hops)
    )
    comp = data.g[:, parents].T.reshape(-1)
    safe_comp = np.where(comp > 0, comp, 1.0)
    mu = np.bincount(data.device, minlength=data.n_dev) / data.exposure * 0.5 + 1e-12
    alpha = np.where(comp > 0, 0.5 * n / max(float(comp.sum()), 1e-12), 0.0)
    ll_prev = -np.inf
    ll = -np.inf
    for _ in range(max_iter):
        lam = mu[data.device] + feats @ alpha
        ll = float(np.log(lam).sum() - mu.sum() * data.exposure - alpha @ comp)
        if ll - ll_prev <= tol * abs(ll):
            break
        ll_prev = ll
        inv = 1.0 / lam
        mu = mu * np.bincount(data.device, weights=inv, minlength=data.n_dev) / data.exposure
        alpha = alpha * (feats.T @ inv) / safe_comp
    lam = mu[data.device] + feats @ alpha
    share = (feats * alpha / lam[:, None]).reshape(n, len(parents), hops).sum(axis=(0, 2))
    return ChildFit(ll, mu, alpha.reshape(len(parents), hops), share / max(n, 1))


def _reaches(adj: npt.NDArray[np.bool_], start: int, target: int) -> bool:
    """Whether a directed path leads from ``start`` to ``target``."""
    seen = np.zeros(adj.shape[0], dtype=bool)
    seen[start] = True
    frontier = seen.copy()
    while frontier.any():
        if seen[target]:
            return True
        nxt = adj[frontier].any(axis=0) & ~seen
        seen |= nxt
        frontier = nxt
    return bool(seen[target])


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The learned DAG with each edge's likelihood-ratio gain and its fitted children."""

    adjacency: npt.NDArray[np.bool_]
    gain: npt.NDArray[np.float64]
    fits: list[ChildFit]
    parents: list[list[int]]


def greedy_dag(
    children: list[ChildData], penalty: float, max_iter: int, tol: float
) -> SearchResult:
    """Add the best acyclic edge while its log-likelihood gain exceeds ``penalty``.

    Every type always excites itself (alarms repeat), as in THP; self-loops are not edges.
    """
    k = len(children)
    parents = [[v] for v in range(k)]
    fits = [fit_child(children[v], parents[v], max_iter, tol) for v in range(k)]
    cand = np.full((k, k), -np.inf)

    def refresh(v: int) -> None:
        touches = children[v].touches()
        for u in range(k):
            if u in parents[v] or not touches[u]:
                cand[u, v] = -np.inf
            else:
                trial = fit_child(children[v], [*parents[v], u], max_iter, tol)
                cand[u, v] = trial.loglik - fits[v].loglik

    for v in range(k):
        refresh(v)
    adj = np.zeros((k, k), dtype=bool)
    gain = np.zeros((k, k))
    while True:
        flat = int(np.argmax(cand))
        u, v = divmod(flat, k)
        best = float(cand[u, v])
        if not best > penalty:
            break
        if _reaches(adj, v, u):
            cand[u, v] = -np.inf  # edges are only added, so this pair stays cyclic
            continue
        adj[u, v] = True
        gain[u, v] = best
        parents[v].append(u)
        fits[v] = fit_child(children[v], parents[v], max_iter, tol)
        refresh(v)
    return SearchResult(adj, gain, fits, parents)


def pairwise(
    children: list[ChildData], max_iter: int, tol: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """For every pair, the gain of u as v's only parent and the share of v's alarms it explains.

    This is the likelihood-ratio test of "u's alarms raise v's rate" with nothing else in the
    model, so indirect causes pass it too.
    """
    k = len(children)
    gain = np.full((k, k), -np.inf)
    share = np.zeros((k, k))
    for v, child in enumerate(children):
        if child.x.shape[1] == 0:
            continue
        alone = fit_child(child, [v], max_iter, tol).loglik
        touches = child.touches()
        for u in range(k):
            if u != v and touches[u]:
                trial = fit_child(child, [v, u], max_iter, tol)
                gain[u, v] = trial.loglik - alone
                share[u, v] = trial.share[1]
    return gain, share


def ancestral_completion(
    adjacency: npt.NDArray[np.bool_], pair_gain: npt.NDArray[np.float64], penalty: float
) -> npt.NDArray[np.bool_]:
    """Add u -> w where u is an ancestor of w in the learned DAG and the pair is dependent.

    The multivariate likelihood explains an indirect cause away through the intermediate type,
    but operators (and expert graphs) list "u leads to w" as a causal relation too. The
    orientation comes from the learned DAG; the pairwise test (u alone as a parent of w, or w
    of u, gaining more than ``penalty``, see :func:`pairwise`) keeps only pairs whose alarms
    actually co-occur.
    """
    k = adjacency.shape[0]
    reach = adjacency.copy()
    for _ in range(k):
        nxt = reach | ((reach.astype(np.int64) @ adjacency.astype(np.int64)) > 0)
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    dependent = np.maximum(pair_gain, pair_gain.T) > penalty
    return adjacency | (reach & dependent)
