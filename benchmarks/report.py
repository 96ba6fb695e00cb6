"""Turn raw results into the Markdown tables and the bar plot in `docs/`.

Works from the JSON that `runner` writes (`results.json`), so a report can be
redrawn without rerunning anything: `python -m benchmarks --report-only`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

LABELS = {
    "version": "`--version`",
    "add": "`add` cold",
    "status": "`status` unchanged",
    "status-changed": "`status`, one file changed",
    "add-changed": "`add`, one file changed",
    "diff": "`diff` of two revisions, one file changed",
    "status-pipeline": "`status`, 3-stage pipeline up to date",
    "repro": "`repro`, up to date",
    "repro-changed": "`repro`, one file of the first stage's folder changed",
    "dag": "`dag --dot`",
    "params-diff": "`params diff --all`",
    "metrics-show": "`metrics show`",
    "plots-show": "`plots show`",
    "stage-add": "`stage add`",
    "checkout": "`checkout` whole tree",
    "gc": "`gc -w -f`",
    "push": "`push` folder",
    "status-c": "`status -c` folder",
    "pull": "`pull` folder",
    "list-R": "`list -R` local registry",
    "import": "`import` folder",
    "update": "`update`, nothing to do",
    "import-url": "`import-url` local folder",
    "update-url": "`update` import-url, nothing to do",
    "push-s3": "`push` S3",
    "pull-s3": "`pull` S3",
}
BOUNDS = {
    "cat": "`cat`",
    "md5sum": "`md5sum`",
    "md5sum-parallel": "`md5sum` ∥",
    "cp": "`cp -r`",
    "s3-put": "S3 put ×32",
    "s3-get": "S3 get ×32",
}
# The bound shown beside each operation (its sum where there are several).
BOUND_OF = {
    "add": ("md5sum-parallel", "cp"),
    "checkout": ("cp",),
    "push": ("cp",),
    "pull": ("cp",),
    "push-s3": ("s3-put",),
    "pull-s3": ("s3-get",),
}


@dataclass(frozen=True, slots=True)
class Stat:
    """Median, min and max seconds over repetitions, and the highest peak RSS."""

    median: float
    lo: float
    hi: float
    peak_mb: float
    n: int


@dataclass(frozen=True, slots=True)
class Target:
    """A goal from issue 4 (or issue 2 for large files) for one operation."""

    text: str
    min_ratio: float | None = None  # dvc / bale at least this
    max_seconds: float | None = None  # bale at most this
    over_bound: float | None = None  # bale at most this × the bound
    bound: tuple[str, ...] = ()
    max_peak_mb: float | None = None


def target_for(op: str, kind: str) -> Target:
    """The target of issue 4 for `op` on a dataset of `kind` (peak below DVC's always)."""
    if op == "version":
        return Target("≤ 60 ms", max_seconds=0.060)
    if op in ("list-R", "update") and kind == "small-files":
        return Target("≥ 5×", min_ratio=5)  # issue 14
    if op in ("status-pipeline", "repro", "repro-changed") and kind == "small-files":
        return Target("≥ 5×", min_ratio=5)  # issue 15
    if op == "diff" and kind == "small-files":
        return Target("≥ 5×", min_ratio=5)
    if op == "import" and kind == "small-files":
        return Target("≥ 3×", min_ratio=3)
    if kind == "small-files":
        if op in ("add", "checkout", "push", "pull"):
            return Target("≥ 5×", min_ratio=5)
        if op in ("status", "status-changed", "add-changed"):
            return Target("≥ 10×", min_ratio=10)
        if op == "push-s3":
            return Target("≤ 1.1× S3 put", over_bound=1.1, bound=("s3-put",))
        if op == "pull-s3":
            return Target("≤ 1.1× S3 get", over_bound=1.1, bound=("s3-get",))
        return Target("peak < dvc")
    if op == "add":
        return Target("≤ 1.3× (md5sum ∥ + cp)", over_bound=1.3, bound=("md5sum-parallel", "cp"))
    if op in ("push-s3", "pull-s3"):
        bound = "s3-put" if op == "push-s3" else "s3-get"
        text = f"≤ 1.2× {BOUNDS[bound]}, ≤ 150 MB"
        return Target(text, over_bound=1.2, bound=(bound,), max_peak_mb=150)
    return Target("≥ 1× (not slower)", min_ratio=1)


def aggregate(samples: list[dict]) -> tuple[dict[tuple, Stat], dict[tuple, str]]:
    """Stats per (dataset, op, tool) over successful samples, and the first error of each."""
    times: dict[tuple, list[float]] = defaultdict(list)
    peaks: dict[tuple, list[float]] = defaultdict(list)
    errors: dict[tuple, str] = {}
    for s in samples:
        key = (s["dataset"], s["op"], s["tool"])
        if s["seconds"] is None:
            errors.setdefault(key, s["error"] or "failed")
        else:
            times[key].append(s["seconds"])
            peaks[key].append(s["peak_mb"])
    stats = {
        key: Stat(statistics.median(v), min(v), max(v), max(peaks[key]), len(v))
        for key, v in times.items()
    }
    return stats, errors


def fmt_seconds(x: float) -> str:
    """Seconds for a table: milliseconds below one second."""
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def fmt_stat(stat: Stat | None, error: str | None, skip: str | None, runs: int = 0) -> str:
    """`median (min–max)`, or why there is no figure; notes runs that gave none."""
    if stat is not None:
        mark = ""
        if error is not None:
            mark = " (some runs failed¹)"
        elif stat.n < runs:
            mark = f" ({stat.n} of {runs} runs²)"
        if stat.n == 1:
            return fmt_seconds(stat.median) + mark
        if stat.hi < 1:
            text = f"{stat.median * 1000:.0f} ms ({stat.lo * 1000:.0f}–{stat.hi * 1000:.0f})"
            return text + mark
        return f"{fmt_seconds(stat.median)} ({stat.lo:.2f}–{stat.hi:.2f})" + mark
    if error is not None:
        return "failed¹"
    if skip is not None:
        return "n/a²"
    return "—"


def check(
    target: Target, bale: Stat | None, dvc: Stat | None, bound: float | None
) -> tuple[str, bool | None]:
    """Whether bale meets `target` (and peaks below dvc): ("yes"/"no: why"/"—", met)."""
    if bale is None:
        return "—", None
    misses = []
    if target.min_ratio is not None:
        if dvc is None:
            return "—", None
        if dvc.median / bale.median < target.min_ratio:
            misses.append(f"{dvc.median / bale.median:.1f}×")
    if target.max_seconds is not None and bale.median > target.max_seconds:
        misses.append(fmt_seconds(bale.median))
    if target.over_bound is not None:
        if bound is None:
            return "—", None
        if bale.median > target.over_bound * bound:
            misses.append(f"{bale.median / bound:.2f}× bound")
    if target.max_peak_mb is not None and bale.peak_mb > target.max_peak_mb:
        misses.append(f"{bale.peak_mb:.0f} MB")
    if dvc is not None and bale.peak_mb >= dvc.peak_mb:
        misses.append("memory ≥ dvc")
    if misses:
        return "**no**: " + ", ".join(misses), False
    return "yes", True


def _bound_value(stats: dict[tuple, Stat], dataset: str, names: tuple[str, ...]) -> float | None:
    values = [stats.get((dataset, op, name)) for op, name in _bound_keys(names)]
    if not values or any(v is None for v in values):
        return None
    return sum(v.median for v in values if v is not None)


def _bound_keys(names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Where each bound is recorded: under the step it runs before."""
    step = {"s3-put": "push-s3", "s3-get": "pull-s3"}
    return [(step.get(name, "add"), name) for name in names]


def rows(data: dict) -> list[dict]:
    """One row per (dataset, op) that was run or skipped, in run order."""
    stats, errors = aggregate(data["samples"])
    skips = {(s["dataset"], s["op"], s["tool"]): s["reason"] for s in data["skips"]}
    seen = []
    for s in data["samples"] + data["skips"]:
        key = (s["dataset"], s["op"])
        if s["tool"] in ("bale", "dvc") and key not in seen and s["op"] != "*":
            seen.append(key)
    order = list(LABELS)
    datasets = list(data["datasets"])
    seen.sort(key=lambda k: (datasets.index(k[0]) if k[0] in datasets else 99, order.index(k[1])))
    out = []
    for dataset, op in seen:
        kind = data["datasets"].get(dataset, {}).get("kind", "small-files")
        runs = data["meta"].get("runs_per_op", {}).get(op, 0)
        bale = stats.get((dataset, op, "bale"))
        dvc = stats.get((dataset, op, "dvc"))
        target = target_for(op, kind)
        shown_bound = target.bound or BOUND_OF.get(op, ())
        bound = _bound_value(stats, dataset, shown_bound)
        met, ok = check(target, bale, dvc, bound)

        def why(tool: str, dataset: str = dataset, op: str = op) -> str | None:
            return skips.get((dataset, op, tool)) or skips.get((dataset, "*", tool))

        out.append(
            {
                "dataset": dataset,
                "op": op,
                "bale": bale,
                "dvc": dvc,
                "bale_text": fmt_stat(bale, errors.get((dataset, op, "bale")), why("bale"), runs),
                "dvc_text": fmt_stat(dvc, errors.get((dataset, op, "dvc")), why("dvc"), runs),
                "ratio": dvc.median / bale.median if bale and dvc else None,
                "bound": bound,
                "bound_name": " + ".join(BOUNDS[b] for b in shown_bound),
                "target": target.text,
                "met": met,
                "ok": ok,
                "notes": [
                    (tool, errors.get((dataset, op, tool)), why(tool)) for tool in ("bale", "dvc")
                ],
            }
        )
    return out


def markdown(data: dict, *, plot_name: str | None) -> str:
    """The whole `docs/benchmarks.md` page for one run."""
    meta = data["meta"]
    m = meta["machine"]
    table = rows(data)
    lines = [
        "# Benchmarks: bale beside DVC",
        "",
        "Generated by `python -m benchmarks` (`make bench`; `make bench-quick` for the small",
        "variant below). Every figure comes from one session: for each dataset and repetition",
        "both tools get a fresh git repository with a copy of the same generated data, and each",
        "operation runs for bale and for dvc back to back, the tool going first alternating",
        "between repetitions. Times are wall-clock medians with (min–max) over the repetitions;",
        "ratio is DVC time / bale time (higher is better for bale). Peak memory is the largest",
        "resident set of any process of the command's tree (`ru_maxrss`), the highest over the",
        "repetitions. The page cache is warm (the data was just copied), as for a user who just",
        "wrote it. Each command starts after a `sync`, and what a preparation removes is set",
        "aside and deleted after the run: on a disk mounted with online discard, deleting",
        "thousands of files slows the next file creations for minutes. Targets are issue 4's;",
        "the DVC-relative ones apply to the small-file",
        "datasets, large files have their own; every target also asks for a lower peak than DVC.",
        "The machine bound beside an operation is what plain tools take for the same bytes",
        "(for `add`: parallel `md5sum` plus one `cp -r`). Quick mode's datasets are about ten",
        "times smaller than issue 4's, so start-up weighs more in every ratio there.",
        "",
        "To reproduce: `make bench` (or `python -m benchmarks --dvc PATH/TO/dvc`, with",
        "`--quick`, `--reps N`, `--only add,status,...`, `--datasets small,large,...`,",
        "`--workdir DIR`; `--report-only` redraws this page from the last raw results).",
        "",
        f"- Date: {meta['date']}; mode: {'quick' if meta['quick'] else 'full'},"
        f" {meta['reps']} repetition(s)",
        f"- Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']:.0f} GB memory,"
        f" Linux {m['kernel']}, work directory on {m['filesystem']}",
        f"- Python {meta['python']}; bale {meta['versions'].get('bale') or '(does not start)'};"
        f" dvc {meta['versions'].get('dvc') or '(does not start)'}",
        "",
        "## Datasets",
        "",
        "| name | content |",
        "| --- | --- |",
    ]
    for name, info in data["datasets"].items():
        lines.append(f"| {name} | {info['description']} |")
    lines += [
        "",
        "## Results",
        "",
        "| operation | dataset | bale | dvc | ratio | machine bound | bale peak MB"
        " | dvc peak MB | target | met? |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for r in table:
        ratio = f"{r['ratio']:.1f}×" if r["ratio"] is not None else "—"
        bound = f"{r['bound_name']} {fmt_seconds(r['bound'])}" if r["bound"] is not None else ""
        lines.append(
            f"| {LABELS[r['op']]} | {r['dataset']} | {r['bale_text']} | {r['dvc_text']} | {ratio}"
            f" | {bound} | {_mb(r['bale'])} | {_mb(r['dvc'])} | {r['target']} | {r['met']} |"
        )
    lines += _bounds_table(data)
    notes = _notes(table)
    if notes:
        lines += ["", "## Failures and gaps", "", *notes]
    if plot_name:
        lines += ["", "## Plot", "", f"![bale and dvc, median seconds, log scale]({plot_name})"]
    return "\n".join(lines) + "\n"


def _mb(stat: Stat | None) -> str:
    return f"{stat.peak_mb:.0f}" if stat else "—"


def _bounds_table(data: dict) -> list[str]:
    stats, _ = aggregate(data["samples"])
    present = [
        b for b in BOUNDS if any(key[2] == b for key in stats)
    ]  # only the bounds this run measured
    if not present:
        return []
    lines = [
        "",
        "## Machine bounds",
        "",
        "The same files with plain tools: `find | xargs` for `cat` and `md5sum` (∥: one"
        " process per CPU), `cp -r`, and a boto3 pool of 32 connections doing one PUT or GET"
        " per file against the same S3 test server.",
        "",
        "| dataset | " + " | ".join(BOUNDS[b] for b in present) + " |",
        "| --- | " + " | ".join("---:" for _ in present) + " |",
    ]
    for dataset in data["datasets"]:
        cells = []
        for b in present:
            found = [s for (d, _, t), s in stats.items() if d == dataset and t == b]
            cells.append(fmt_stat(found[0], None, None) if found else "—")
        if any(c != "—" for c in cells):
            lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    return lines


def _notes(table: list[dict]) -> list[str]:
    """Footnotes: why a figure is missing, one line per distinct reason."""
    seen: dict[str, list[str]] = {}
    for r in table:
        for tool, error, skip in r["notes"]:
            if error is not None:
                text = f"¹ {tool} failed: {error}"
            elif skip is not None:
                text = f"² {tool} n/a: {skip}"
            else:
                continue
            seen.setdefault(text, []).append(f"{LABELS[r['op']]} ({r['dataset']})")
    return [f"- {text} — {', '.join(where)}" for text, where in seen.items()]


def text_table(data: dict) -> str:
    """A plain-text version of the results for the terminal."""
    head = ("operation", "dataset", "bale", "dvc", "ratio", "bale MB", "dvc MB", "target", "met?")
    body = []
    for r in rows(data):
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] is not None else "-"
        body.append(
            (
                r["op"],
                r["dataset"],
                r["bale_text"],
                r["dvc_text"],
                ratio,
                _mb(r["bale"]),
                _mb(r["dvc"]),
                r["target"],
                r["met"].replace("**", ""),
            )
        )
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in [head]]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(out)


def plot(data: dict, path: Path) -> None:
    """Grouped bars per dataset: bale and dvc median seconds per operation, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = [r for r in rows(data) if r["bale"] or r["dvc"]]
    datasets = [d for d in data["datasets"] if any(r["dataset"] == d for r in table)]
    if not datasets:
        return
    fig, axes = plt.subplots(len(datasets), 1, figsize=(11, 3.6 * len(datasets)), squeeze=False)
    for ax, dataset in zip(axes[:, 0], datasets, strict=True):
        sub = [r for r in table if r["dataset"] == dataset]
        xs = range(len(sub))
        for offset, tool, color in ((-0.2, "bale", "#2b7bba"), (0.2, "dvc", "#945ec8")):
            heights = [r[tool].median if r[tool] else 0 for r in sub]
            lo = [r[tool].median - r[tool].lo if r[tool] else 0 for r in sub]
            hi = [r[tool].hi - r[tool].median if r[tool] else 0 for r in sub]
            ax.bar(
                [x + offset for x in xs],
                heights,
                width=0.4,
                label=tool,
                color=color,
                yerr=[lo, hi],
                capsize=2,
            )
        bounds = [(x, r["bound"]) for x, r in zip(xs, sub, strict=True) if r["bound"]]
        if bounds:
            ax.hlines(
                [b for _, b in bounds],
                [x - 0.42 for x, _ in bounds],
                [x + 0.42 for x, _ in bounds],
                colors="black",
                linestyles="dashed",
                linewidth=1,
                label="machine bound",
            )
        for x, r in zip(xs, sub, strict=True):
            if r["ratio"] is not None:
                top = max(r["bale"].hi, r["dvc"].hi)
                ax.annotate(f"{r['ratio']:.1f}×", (x, top), ha="center", va="bottom", fontsize=8)
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 4)  # room for the ratios above the tallest bars
        ax.set_xticks(list(xs))
        ax.set_xticklabels([LABELS[r["op"]].replace("`", "") for r in sub], rotation=25, ha="right")
        ax.set_ylabel("seconds (median)")
        ax.set_title(f"{dataset}: {data['datasets'][dataset]['description']}", fontsize=10)
        # Above the axes, beside the title: inside, it hid the first bars.
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=3, fontsize=8, frameon=False)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"bale vs dvc — ratio = dvc / bale ({data['meta']['date']})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
