"""Copy the images whose mean brightness (0-255) lies between two
thresholds (params.yaml's `exposure.dark_below` and `exposure.bright_above`,
which dvc.yaml passes) from IN to OUT.

    python3 scripts/exposure.py IN OUT DARK_BELOW BRIGHT_ABOVE
"""

import shutil
import sys
from pathlib import Path

from PIL import Image, ImageStat


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dark_below, bright_above = float(sys.argv[3]), float(sys.argv[4])
    dst.mkdir(parents=True)
    kept = 0
    for path in sorted(src.iterdir()):
        with Image.open(path) as image:
            mean = ImageStat.Stat(image.convert("L")).mean[0]
        if mean < dark_below:
            print(f"  dropped {path.name}: too dark (mean brightness {mean:.0f})")
        elif mean > bright_above:
            print(f"  dropped {path.name}: too bright (mean brightness {mean:.0f})")
        else:
            shutil.copyfile(path, dst / path.name)
            kept += 1
    print(f"exposure {src.name}: {kept} well-exposed images kept")


if __name__ == "__main__":
    main()
