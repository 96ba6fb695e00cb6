"""Write short text documents on a few topics into a folder: the data that
already lives in the store before the project exists.

    python3 make_documents.py OUT_DIR FIRST COUNT
"""

import random
import sys
from pathlib import Path

TOPICS = {
    "astronomy": "star galaxy orbit planet telescope comet nebula moon solar cosmic light",
    "cooking": "oven flour butter recipe sauce garlic onion simmer bake pepper salt",
    "sailing": "boat wind sail harbour mast keel tide anchor crew rope deck",
    "finance": "market stock bond interest price loan bank credit invest rate fund",
}
COMMON = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "with", "for", "on", "by"]


def document(rng: random.Random, topic: str) -> str:
    words = TOPICS[topic].split()
    picked = [rng.choice(words) if rng.random() < 0.6 else rng.choice(COMMON) for _ in range(60)]
    return " ".join(picked) + "\n"


def main() -> None:
    out, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    topics = sorted(TOPICS)
    for number in range(first, first + count):
        rng = random.Random(number)
        (out / f"doc_{number:03d}.txt").write_text(document(rng, topics[number % len(topics)]))


if __name__ == "__main__":
    main()
