"""Stage 1, index: every document's words, lower-cased, in one JSON file.

python3 scripts/index.py DOCUMENTS_DIR INDEX_JSON
"""

import json
import re
import sys
from pathlib import Path


def main() -> None:
    folder, out = Path(sys.argv[1]), sys.argv[2]
    index = [
        {"doc": path.name, "words": re.findall(r"[a-z]+", path.read_text().lower())}
        for path in sorted(folder.glob("*.txt"))
    ]
    with open(out, "w") as fobj:
        json.dump(index, fobj)
    print(f"indexed {len(index)} documents")


if __name__ == "__main__":
    main()
