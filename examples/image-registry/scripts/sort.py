"""Sort the images of IN into OUT/landscape, OUT/portrait and OUT/square
by their width and height.

    python3 scripts/sort.py IN OUT
"""

import shutil
import sys
from pathlib import Path

from PIL import Image


def orientation(path: Path) -> str:
    with Image.open(path) as image:
        width, height = image.size
    return "landscape" if width > height else "portrait" if height > width else "square"


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    counts: dict[str, int] = {}
    for path in sorted(src.iterdir()):
        kind = orientation(path)
        (dst / kind).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dst / kind / path.name)
        counts[kind] = counts.get(kind, 0) + 1
    print(f"sort {src.name}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
