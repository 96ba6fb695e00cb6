"""Copy the images Pillow can read in full from IN to OUT; name the others.

    python3 scripts/verify.py IN OUT

`verify()` checks a file's structure (PNG chunk checksums) and `load()`
decodes every pixel, which catches a JPEG cut short that verify passes.
"""

import shutil
import sys
from pathlib import Path

from PIL import Image


def readable(path: Path) -> str | None:
    """None when the image is whole, else why not."""
    try:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError) as e:
        return str(e) or type(e).__name__
    return None


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dst.mkdir(parents=True)
    kept = 0
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        problem = readable(path)
        if problem:
            print(f"  dropped {path.name}: {problem}")
        else:
            shutil.copyfile(path, dst / path.name)
            kept += 1
    print(f"verify {src.name}: {kept} readable images kept")


if __name__ == "__main__":
    main()
