"""Write a large background corpus (one sentence a line, several MB): the
generated file the project sends straight to the remote with
`bale add --to-remote`, and that the embedding stage reads word weights from.

    python3 make_background.py OUT LINES
"""

import random
import sys

from make_documents import COMMON, TOPICS


def main() -> None:
    out, lines = sys.argv[1], int(sys.argv[2])
    rng = random.Random(0)
    vocabulary = COMMON * 8 + " ".join(TOPICS.values()).split()
    with open(out, "w") as fobj:
        for _ in range(lines):
            fobj.write(" ".join(rng.choices(vocabulary, k=16)) + "\n")


if __name__ == "__main__":
    main()
