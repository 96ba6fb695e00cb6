"""Write a collection of small generated photos: PNG and JPEG in three
orientations, a few too dark, a few too bright and a few corrupted (cut
short, or not an image at all), the faults a pipeline has to catch.

    python3 make_images.py OUT --count N [--dark N] [--bright N] [--corrupt N] [--seed S]

The same arguments write the same bytes, so the example's hashes repeat.
"""

import argparse
import io
import random
from pathlib import Path

from PIL import Image

SIZES = ((48, 32), (32, 48), (40, 40))  # landscape, portrait, square


def photo(rng: random.Random, size: tuple[int, int], level: int) -> Image.Image:
    """A noisy colour gradient whose mean brightness is about `level`."""
    width, height = size
    tint = [rng.randint(-20, 20) for _ in range(3)]
    pixels = []
    for y in range(height):
        for x in range(width):
            base = level + (x + y) // 4 - (width + height) // 8 + rng.randint(-12, 12)
            pixels.append(tuple(max(0, min(255, base + t)) for t in tint))
    image = Image.new("RGB", size)
    image.putdata(pixels)
    return image


def encode(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, required=True, help="how many files in all")
    parser.add_argument("--dark", type=int, default=0)
    parser.add_argument("--bright", type=int, default=0)
    parser.add_argument("--corrupt", type=int, default=0)
    parser.add_argument("--prefix", default="img", help="file names: PREFIX_NNN.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    kinds = ["dark"] * args.dark + ["bright"] * args.bright + ["corrupt"] * args.corrupt
    kinds += ["good"] * (args.count - len(kinds))
    rng.shuffle(kinds)
    args.out.mkdir(parents=True, exist_ok=True)
    corrupted = 0
    for n, kind in enumerate(kinds, 1):
        fmt = rng.choice(("PNG", "JPEG"))
        level = {"dark": 15, "bright": 240}.get(kind, rng.randint(90, 160))
        data = encode(photo(rng, rng.choice(SIZES), level), fmt)
        if kind == "corrupt":  # cut short as an interrupted copy leaves it, or noise
            corrupted += 1
            data = data[: len(data) // 2] if corrupted % 3 else rng.randbytes(600)
        name = f"{args.prefix}_{n:03d}.{'png' if fmt == 'PNG' else 'jpg'}"
        (args.out / name).write_bytes(data)


if __name__ == "__main__":
    main()
