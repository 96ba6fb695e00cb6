"""Copy the images whose mean brightness lies between the thresholds of
params.yaml (`exposure.dark_below`, `exposure.bright_above`) from IN to OUT.

    python scripts/exposure.py IN OUT
"""

import shutil
import sys
from pathlib import Path

import yaml
from PIL import Image, ImageStat


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    limits = yaml.safe_load(Path("params.yaml").read_text())["exposure"]
    dst.mkdir(parents=True)
    kept = 0
    for path in sorted(src.iterdir()):
        with Image.open(path) as image:
            mean = ImageStat.Stat(image.convert("L")).mean[0]
        if mean < limits["dark_below"]:
            print(f"  dropped {path.name}: too dark (mean brightness {mean:.0f})")
        elif mean > limits["bright_above"]:
            print(f"  dropped {path.name}: too bright (mean brightness {mean:.0f})")
        else:
            shutil.copyfile(path, dst / path.name)
            kept += 1
    print(f"exposure {src.name}: {kept} well-exposed images kept")


if __name__ == "__main__":
    main()
