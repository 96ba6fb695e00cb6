"""Count the sorted images of every collection, in all and per orientation,
into a metrics file that `bale metrics show` and `bale metrics diff` read.

    python3 scripts/report.py SORTED METRICS_JSON
"""

import json
import sys
from pathlib import Path


def main() -> None:
    sorted_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    collections = sorted(p for p in sorted_dir.iterdir() if p.is_dir())
    metrics = {"collections": len(collections), "images": 0}
    for kind in ("landscape", "portrait", "square"):
        metrics[kind] = sum(len(list((c / kind).glob("*"))) for c in collections)
        metrics["images"] += metrics[kind]
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"report: {metrics['images']} images in {len(collections)} collections")


if __name__ == "__main__":
    main()
