"""Stage 2, embeddings: each document as a hashed bag of word n-grams,
weighted by how rare each n-gram is in the background corpus (IDF), unit length.

    python3 scripts/embed.py INDEX_JSON BACKGROUND_TXT OUT_NPY --dim D --ngrams N
"""

import argparse
import json
import zlib

import numpy as np


def ngrams(words: list[str], n: int) -> list[str]:
    return [
        " ".join(words[i : i + size])
        for size in range(1, n + 1)
        for i in range(len(words) - size + 1)
    ]


def bucket(gram: str, dim: int) -> int:
    return zlib.crc32(gram.encode()) % dim  # stable across runs, unlike hash()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("index")
    parser.add_argument("background")
    parser.add_argument("out")
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--ngrams", type=int, required=True)
    args = parser.parse_args()

    seen = np.zeros(args.dim)
    lines = 0
    with open(args.background) as fobj:
        for line in fobj:
            lines += 1
            for b in {bucket(g, args.dim) for g in ngrams(line.split(), args.ngrams)}:
                seen[b] += 1
    idf = np.log((1 + lines) / (1 + seen)) + 1

    with open(args.index) as fobj:
        index = json.load(fobj)
    vectors = np.zeros((len(index), args.dim))
    for row, entry in enumerate(index):
        for gram in ngrams(entry["words"], args.ngrams):
            vectors[row, bucket(gram, args.dim)] += 1
    vectors *= idf
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(args.out, vectors)
    print(f"embedded {len(index)} documents in {args.dim} dimensions ({lines} background lines)")


if __name__ == "__main__":
    main()
