"""Stage 3, k-means with a fixed seed. Its model (kmeans.npz) is a persisted
output (`persist: true`): bale leaves it in place when the stage reruns, so
the next run starts from the last run's centroids (a warm start) instead of
from scratch, keeping cluster numbers stable as documents arrive.

    python3 scripts/cluster.py EMBEDDINGS INDEX MODEL METRICS ASSIGNMENTS --k K --seed S
"""

import argparse
import json
import os

import numpy as np


def initial_centroids(
    x: np.ndarray, k: int, rng: np.random.Generator, model: str
) -> tuple[np.ndarray, int]:
    """The persisted centroids that still fit, topped up k-means++ style."""
    kept = np.empty((0, x.shape[1]))
    if os.path.exists(model):
        old = np.load(model)["centroids"]
        if old.shape[1] == x.shape[1]:
            kept = old[:k]
    centroids = list(kept)
    if not centroids:
        centroids.append(x[rng.integers(len(x))])
    while len(centroids) < k:
        distance = np.min(((x[:, None, :] - np.array(centroids)[None]) ** 2).sum(-1), axis=1)
        centroids.append(x[rng.choice(len(x), p=distance / distance.sum())])
    return np.array(centroids), len(kept)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("embeddings", "index", "model", "metrics", "assignments"):
        parser.add_argument(name)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()

    x = np.load(args.embeddings)
    rng = np.random.default_rng(args.seed)
    centroids, kept = initial_centroids(x, args.k, rng, args.model)
    iterations = 0
    while True:  # Lloyd's iterations until the centroids stop moving
        iterations += 1
        labels = ((x[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(axis=1)
        moved = np.array(
            [x[labels == c].mean(0) if (labels == c).any() else centroids[c] for c in range(args.k)]
        )
        if np.allclose(moved, centroids) or iterations == 100:
            break
        centroids = moved
    inertia = float(((x - centroids[labels]) ** 2).sum())

    np.savez(args.model, centroids=centroids)
    with open(args.index) as fobj:
        docs = [entry["doc"] for entry in json.load(fobj)]
    with open(args.assignments, "w") as fobj:
        fobj.write("doc,cluster\n")
        fobj.writelines(f"{d},{c}\n" for d, c in zip(docs, labels, strict=True))
    metrics = {"k": args.k, "inertia": round(inertia, 4), "iterations": iterations}
    metrics["warm_started_centroids"] = kept
    with open(args.metrics, "w") as fobj:
        fobj.write(json.dumps(metrics, indent=2) + "\n")
    start = f"warm start from {kept} persisted centroids" if kept else "cold start, no kmeans.npz"
    print(f"k-means, k={args.k}: {start}; converged in {iterations} iterations")


if __name__ == "__main__":
    main()
