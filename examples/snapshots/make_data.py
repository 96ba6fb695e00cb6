"""Write data/train.csv and data/test.csv: y = 0.5 x^2 - x + 3 plus noise,
`ROWS` training rows (the test rows never change).

    python3 make_data.py DATA_DIR ROWS
"""

import sys
from pathlib import Path

import numpy as np


def write(path: Path, x: np.ndarray, rng: np.random.Generator) -> None:
    y = 0.5 * x**2 - x + 3 + rng.normal(0, 0.5, len(x))
    path.write_text("x,y\n" + "".join(f"{a:.4f},{b:.4f}\n" for a, b in zip(x, y, strict=True)))


def main() -> None:
    folder, rows = Path(sys.argv[1]), int(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rows)
    write(folder / "train.csv", rng.uniform(-3, 3, rows), rng)
    test = np.random.default_rng(0)
    write(folder / "test.csv", test.uniform(-3, 3, 50), test)


if __name__ == "__main__":
    main()
