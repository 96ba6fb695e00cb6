"""plots show, plots diff: the plots of revisions, written as one HTML page
that needs no network (each plot an inline SVG drawn here, images as data:
URIs, no script), or with `--json` as `dvc plots show --json` gives them:
`{"data": {id: [{type, revisions, content | url}]}, "errors": [...]}`."""

from __future__ import annotations

import argparse
import math
import os
import sys
from html import escape
from typing import TYPE_CHECKING, Any

from bale.cli.args import sub_quiet_flags
from bale.cli.output import print_json, warn_revisions

if TYPE_CHECKING:
    from bale.pipeline.plots import Plot, Series, Shown
    from bale.repo.repository import Repo

DEFAULT_OUT = "dvc_plots"  # dvc's, and `plots.out_dir` in the config
PAGE = "index.html"
# dvc_render's colours, in its order.
COLORS = ("#945dd6", "#13adc7", "#f46837", "#48bb78", "#4299e1", "#ed8936", "#f56565")
MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    subs = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True)
    show = _sub(
        subs,
        "show",
        "Draw plots of the workspace: stage plots outputs and dvc.yaml's "
        "plots, or the files named.",
    )
    show.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="plots files, or plot ids of dvc.yaml (default: every plot)",
    )
    _options(show)
    show.set_defaults(func=cmd_plots_show)
    diff = _sub(
        subs,
        "diff",
        "Draw plots of several revisions, one series per revision "
        "(default: the workspace, and HEAD when git's files changed).",
    )
    diff.add_argument(
        "revisions", nargs="*", metavar="REV", help="git revisions; 'workspace' is the working tree"
    )
    diff.add_argument(
        "--targets",
        nargs="*",
        metavar="TARGET",
        help="plots files, or plot ids of dvc.yaml (default: all)",
    )
    _options(diff)
    diff.set_defaults(func=cmd_plots_diff)


def _sub(subs: Any, name: str, text: str) -> argparse.ArgumentParser:
    sub = subs.add_parser(name, help=text, description=text)
    sub_quiet_flags(sub)
    return sub


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--out", metavar="DIR", help=f"folder to write {PAGE} in (default: {DEFAULT_OUT})"
    )
    parser.add_argument("--json", action="store_true", help="print the plots' data instead")
    parser.add_argument(
        "-t",
        "--template",
        metavar="NAME",
        help="linear, simple, smooth, scatter, scatter_jitter, bar_horizontal, "
        "bar_horizontal_sorted, confusion or confusion_normalized",
    )
    parser.add_argument("-x", metavar="FIELD", help="the column for the x axis")
    parser.add_argument("-y", metavar="FIELD", help="the column for the y axis")
    parser.add_argument(
        "--no-header",
        action="store_false",
        dest="header",
        default=None,
        help="CSV and TSV files have no header row",
    )
    parser.add_argument("--title", metavar="TEXT", help="the plots' title")
    parser.add_argument("--x-label", metavar="TEXT", help="the x axis' label")
    parser.add_argument("--y-label", metavar="TEXT", help="the y axis' label")


# -- commands ---------------------------------------------------------------


def cmd_plots_show(args: argparse.Namespace) -> int:
    from bale.pipeline.plots import show

    repo = _repo()
    out = _out_dir(repo, args)
    shown = show(repo, targets=_targets(repo, args.targets), props=_props(args))
    return _write(args, repo, shown, out)


def cmd_plots_diff(args: argparse.Namespace) -> int:
    from bale.pipeline.plots import diff

    repo = _repo()
    out = _out_dir(repo, args)
    shown = diff(repo, args.revisions, targets=_targets(repo, args.targets), props=_props(args))
    return _write(args, repo, shown, out)


def _repo() -> Repo:
    from bale.repo.repository import Repo

    return Repo.open(os.getcwd())


def _targets(repo: Repo, targets: list[str] | None) -> list[str] | None:
    """Targets as given (relative to here), made root-relative, as dvc does
    with paths and plot ids alike."""
    return [repo.rel(t) for t in targets] if targets else None


def _props(args: argparse.Namespace) -> dict[str, Any]:
    names = ("template", "x", "y", "header", "title", "x_label", "y_label")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _out_dir(repo: Repo, args: argparse.Namespace) -> str:
    """The folder of the page, absolute: anywhere but inside `.git` or `.dvc`.

    Raises:
        TargetError: it is inside repository metadata.
    """
    from bale.errors import TargetError
    from bale.workspace.index import metadata_problem

    given = args.out or repo.config.get("plots", "out_dir") or DEFAULT_OUT
    out = os.path.abspath(given)
    roots = [repo.root] + ([repo.git.root] if repo.git is not None else [])
    for root in roots:
        rel = os.path.relpath(os.path.join(out, PAGE), root).replace(os.sep, "/")
        if rel.startswith("../"):
            continue
        problem = metadata_problem(rel)
        if problem is not None:
            raise TargetError(f"'{given}' {problem}; name another folder with -o")
    return out


def _write(args: argparse.Namespace, repo: Repo, shown: Shown, out: str) -> int:
    from pathlib import Path

    from bale.fsutil import atomic_write

    _warn(args, shown)
    if args.json:
        print_json(_json(shown))
        return 0
    if not shown.loaded:
        print("No plots were loaded, visualization file will not be created.", file=sys.stderr)
        return 0
    if not shown.plots:
        return 0
    os.makedirs(out, exist_ok=True)
    page = os.path.join(out, PAGE)
    atomic_write(page, render_page(shown.plots).encode("utf-8"))
    if not getattr(args, "quiet", False):
        print(Path(page).resolve().as_uri())
    return 0


def _warn(args: argparse.Namespace, shown: Shown) -> None:
    """One line per file, definition or revision that could not be read."""
    from bale.pipeline.plots import WORKSPACE

    if getattr(args, "quiet", False):
        return
    problems = [(rev, exc) for rev, exc in shown.errors]
    problems += [(p.rev, p.error) for plot in shown.plots for p in plot.problems]
    warn_revisions("plots", problems, WORKSPACE)


# -- JSON -------------------------------------------------------------------


def _json(shown: Shown) -> dict[str, Any]:
    """dvc's shape: plot id -> [{type, revisions, content}] (an image: one
    entry per revision with its `url`), then the errors with dvc's keys."""
    data: dict[str, list[dict[str, Any]]] = {}
    errors: list[dict[str, Any]] = []
    for plot in shown.plots:
        if plot.kind == "image":
            data[plot.id] = [
                {"type": "image", "revisions": [i.rev], "url": _data_uri(i.path, i.data)}
                for i in plot.images
            ]
        elif plot.datapoints:
            data[plot.id] = [{"type": "vega", "revisions": plot.revisions, "content": _spec(plot)}]
        else:
            data[plot.id] = []
        for p in plot.problems:
            where = {"source": p.source} if p.source is not None else {}
            errors.append({"name": plot.id, "rev": p.rev, **where, **_error(p.error)})
    errors += [{"rev": rev, **_error(exc)} for rev, exc in shown.errors]
    found: dict[str, Any] = {}
    if errors:
        found["errors"] = errors
    if data:
        found["data"] = data
    return found


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "msg": str(exc)}


_MARKS = {
    "scatter": "point",
    "scatter_jitter": "point",
    "bar_horizontal": "bar",
    "bar_horizontal_sorted": "bar",
    "confusion": "rect",
    "confusion_normalized": "rect",
}


def _spec(plot: Plot) -> dict[str, Any]:
    """A plain Vega-Lite spec of the plot: dvc's title, data values and axis
    fields and titles (not its template's layers and selections)."""
    props = plot.props
    template = props["template"]
    nominal_y = template.startswith(("bar_horizontal", "confusion"))
    x_type = "nominal" if template.startswith("confusion") else "quantitative"
    encoding: dict[str, Any] = {
        "x": {"field": _vega_field(props["x"]), "type": x_type, "title": props["x_label"]},
        "y": {
            "field": _vega_field(props["y"]),
            "type": "nominal" if nominal_y else "quantitative",
            "title": props["y_label"],
        },
        "color": {"field": "rev"},
    }
    return {
        "title": {"text": props["title"], "anchor": "middle"},
        "data": {"values": plot.datapoints},
        "mark": _MARKS.get(template, "line"),
        "encoding": encoding,
    }


def _vega_field(name: Any) -> Any:
    """A field name as Vega reads it: dots and brackets escaped (as dvc does)."""
    if not isinstance(name, str):
        return name
    for char in ".[]":
        name = name.replace(char, "\\" + char)
    return name


def _data_uri(path: str, data: bytes) -> str:
    import base64

    mime = MIME.get(os.path.splitext(path)[1].lower(), "image")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


# -- HTML and SVG -----------------------------------------------------------

_STYLE = """
body { font-family: sans-serif; margin: 16px; color: #222; }
.plot { display: inline-block; vertical-align: top; margin: 8px; padding: 8px;
        border: 1px solid #ddd; }
.plot p { margin: 4px 0; font-size: 13px; }
.images div { display: inline-block; margin: 4px 8px; text-align: center; }
.images img { max-width: 480px; }
svg text { font-family: sans-serif; }
"""


def render_page(plots: list[Plot]) -> str:
    """The whole page: data plots first, then images by folder and number
    (dvc's order); a plot without data is left out."""
    parts = []
    for plot in sorted(plots, key=_order):
        if plot.kind == "image":
            body = _images(plot)
        elif plot.series:
            body = render_svg(plot)
        else:
            continue
        parts.append(f'<div class="plot" id="{escape(_html_id(plot.id))}">\n{body}\n</div>')
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>bale plots</title>\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )


def _order(plot: Plot) -> tuple:
    if plot.kind != "image":
        return (False, "", -1, "")
    folder, name = os.path.split(plot.id)
    stem = os.path.splitext(name)[0]
    return (True, folder, int(stem) if stem.isdigit() else -1, name)


def _html_id(name: str) -> str:
    return "".join("_" if c in r"!@#$%^&*()[]{};,<>?\/:.|`~=_+ " else c for c in name)


def _images(plot: Plot) -> str:
    items = [f"<p>{escape(plot.id)}</p>", '<div class="images">']
    for image in plot.images:
        uri = _data_uri(image.path, image.data)
        items.append(
            f'<div><p>{escape(image.rev)}</p><img src="{uri}" '
            f'alt="{escape(image.path)} at {escape(image.rev)}"></div>'
        )
    items.append("</div>")
    return "\n".join(items)


W, H = 600, 360  # the whole drawing
LEFT, RIGHT, TOP, BOTTOM = 64, 170, 40, 48  # margins; the legend sits on the right


def render_svg(plot: Plot) -> str:
    """One plot as inline SVG: axes with ticks, labels and a title, a
    polyline (or points, or bars, or a grid) per series, and a legend."""
    template = plot.props["template"]
    if template.startswith("confusion"):
        return "\n".join(
            _confusion(plot, s, normalized=template.endswith("normalized"), label=label)
            for s, label in zip(plot.series, _labels(plot.series), strict=True)
        )
    if template.startswith("bar_horizontal"):
        return _bars(plot, ordered=template.endswith("sorted"))
    return _xy(plot, points=template.startswith("scatter"))


def _labels(series: list[Series]) -> list[str]:
    """Each series' legend: its revision, and its file or column where they vary."""
    files = {s.file for s in series}
    fields = {s.field for s in series}
    labels = []
    for s in series:
        extra = ([s.file] if len(files) > 1 else []) + ([s.field] if len(fields) > 1 else [])
        labels.append(" ".join([s.rev, *extra]) if extra else s.rev)
    return labels


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _ticks(
    lo: float, hi: float, count: int = 5, *, whole: bool = False
) -> tuple[float, float, list[float]]:
    """A nice domain around [lo, hi] and its ticks, a step of 1, 2 or 5 × 10ⁿ
    (at least 1 for `whole` numbers, as row indexes are)."""
    if lo == hi:
        pad = abs(lo) / 2 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = max((hi - lo) / count, 1.0) if whole else (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start, end = math.floor(lo / step), math.ceil(hi / step)
    return start * step, end * step, [i * step for i in range(start, end + 1)]


def _fmt(value: float, step: float) -> str:
    if abs(value) >= 1e6 or (value and abs(value) < 1e-4):
        return f"{value:.3g}"
    digits = max(0, -math.floor(math.log10(step))) if step else 0
    return f"{value:.{digits}f}"


def _frame(plot: Plot, legend: list[str], label: str | None = None) -> list[str]:
    """The opening of a drawing, wide enough for its legend's longest line."""
    title = plot.props["title"] if label is None else f"{plot.props['title']} ({label})"
    width = W - RIGHT + max([RIGHT, *(48 + 7 * len(line) for line in legend)])
    return [
        f'<svg width="{width}" height="{H}" viewBox="0 0 {width} {H}" role="img">',
        f"<title>{escape(str(title))}</title>",
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(str(title))}</text>',
    ]


def _axes(x_label: Any, y_label: Any) -> list[str]:
    bottom, right = H - BOTTOM, W - RIGHT
    middle = (TOP + bottom) / 2
    return [
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#444"/>',
        f'<text x="{(LEFT + right) / 2}" y="{H - 8}" text-anchor="middle" font-size="12">'
        f"{escape(str(x_label or ''))}</text>",
        f'<text x="14" y="{middle}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {middle})">{escape(str(y_label or ""))}</text>',
    ]


def _legend(labels: list[str], shape: str) -> list[str]:
    parts = []
    for i, label in enumerate(labels):
        y = TOP + 8 + i * 18
        color = COLORS[i % len(COLORS)]
        x = W - RIGHT + 16
        if shape == "line":
            parts.append(
                f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{color}" '
                'stroke-width="2"/>'
            )
        elif shape == "dot":
            parts.append(f'<circle cx="{x + 9}" cy="{y}" r="4" fill="{color}"/>')
        else:
            parts.append(f'<rect x="{x + 4}" y="{y - 5}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 24}" y="{y + 4}" font-size="11">{escape(label)}</text>')
    return parts


def _xy(plot: Plot, *, points: bool) -> str:
    """Lines (or points) on two numeric axes; x values that are not all
    numbers are placed in order of first appearance, labelled as written."""
    xs_all = [v for s in plot.series for v in s.x if v is not None]
    categorical = any(_number(v) is None for v in xs_all)
    categories: dict[str, int] = {}
    if categorical:
        for v in xs_all:
            categories.setdefault(str(v), len(categories))

    def x_of(value: Any) -> float | None:
        if value is None:
            return None
        return float(categories[str(value)]) if categorical else _number(value)

    pairs = [[(x_of(a), _number(b)) for a, b in zip(s.x, s.y, strict=True)] for s in plot.series]
    pairs = [[(a, b) for a, b in line if a is not None and b is not None] for line in pairs]
    flat = [p for line in pairs for p in line]
    if not flat:
        flat = [(0.0, 0.0)]
    whole = all(a.is_integer() for a, _ in flat)
    x_lo, x_hi, x_ticks = _ticks(min(a for a, _ in flat), max(a for a, _ in flat), whole=whole)
    y_lo, y_hi, y_ticks = _ticks(min(b for _, b in flat), max(b for _, b in flat))
    if categorical:
        x_lo, x_hi = -0.5, max(len(categories) - 0.5, 0.5)
        x_ticks = [float(i) for i in categories.values()]
    width, height = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(a: float) -> float:
        return round(LEFT + (a - x_lo) / (x_hi - x_lo) * width, 2)

    def py(b: float) -> float:
        return round(H - BOTTOM - (b - y_lo) / (y_hi - y_lo) * height, 2)

    parts = _frame(plot, _labels(plot.series))
    names = list(categories)
    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    for tick in x_ticks:
        text = names[int(tick)] if categorical else _fmt(tick, x_step)
        parts.append(
            f'<line x1="{px(tick)}" y1="{H - BOTTOM}" x2="{px(tick)}" '
            f'y2="{H - BOTTOM + 5}" stroke="#444"/>'
        )
        parts.append(
            f'<text x="{px(tick)}" y="{H - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="11">{escape(text)}</text>'
        )
    for tick in y_ticks:
        parts.append(
            f'<line x1="{LEFT}" y1="{py(tick)}" x2="{W - RIGHT}" y2="{py(tick)}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{py(tick) + 4}" text-anchor="end" '
            f'font-size="11">{_fmt(tick, y_step)}</text>'
        )
    parts += _axes(plot.props["x_label"], plot.props["y_label"])
    labels = _labels(plot.series)
    for i, (line, label) in enumerate(zip(pairs, labels, strict=True)):
        color = COLORS[i % len(COLORS)]
        if points:
            dots = "".join(f'<circle cx="{px(a)}" cy="{py(b)}" r="3"/>' for a, b in line)
            parts.append(
                f'<g class="series" fill="{color}"><title>{escape(label)}</title>{dots}</g>'
            )
        else:
            coords = " ".join(f"{px(a)},{py(b)}" for a, b in line)
            parts.append(
                f'<polyline class="series" fill="none" stroke="{color}" '
                f'stroke-width="1.5" points="{coords}"><title>{escape(label)}</title>'
                "</polyline>"
            )
    parts += _legend(labels, "dot" if points else "line")
    parts.append("</svg>")
    return "\n".join(parts)


def _bars(plot: Plot, *, ordered: bool) -> str:
    """dvc's horizontal bars: one row per y value (a category), its length
    the x value, the series of a row side by side."""
    rows: dict[str, float] = {}
    values: list[dict[str, float]] = []
    for s in plot.series:
        got: dict[str, float] = {}
        for a, b in zip(s.x, s.y, strict=True):
            number = _number(a)
            if number is not None and b is not None:
                got[str(b)] = number
                rows[str(b)] = max(rows.get(str(b), number), number)
        values.append(got)
    names = sorted(rows, key=lambda r: -rows[r]) if ordered else list(rows)
    flat = [v for got in values for v in got.values()] or [0.0]
    lo, hi, ticks = _ticks(min(0.0, *flat), max(0.0, *flat))
    width, height = W - LEFT - RIGHT, H - TOP - BOTTOM
    band = height / max(len(names), 1)
    thick = band * 0.8 / max(len(values), 1)

    def px(a: float) -> float:
        return round(LEFT + (a - lo) / (hi - lo) * width, 2)

    parts = _frame(plot, _labels(plot.series))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for tick in ticks:
        parts.append(
            f'<line x1="{px(tick)}" y1="{TOP}" x2="{px(tick)}" y2="{H - BOTTOM}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{px(tick)}" y="{H - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="11">{_fmt(tick, step)}</text>'
        )
    for r, name in enumerate(names):
        parts.append(
            f'<text x="{LEFT - 6}" y="{round(TOP + (r + 0.5) * band + 4, 2)}" '
            f'text-anchor="end" font-size="11">{escape(name)}</text>'
        )
    labels = _labels(plot.series)
    for i, (got, label) in enumerate(zip(values, labels, strict=True)):
        color = COLORS[i % len(COLORS)]
        bars = []
        for r, name in enumerate(names):
            if name not in got:
                continue
            a, b = sorted((px(0.0), px(got[name])))
            y = round(TOP + r * band + band * 0.1 + i * thick, 2)
            bars.append(
                f'<rect x="{a}" y="{y}" width="{round(b - a, 2)}" height="{round(thick, 2)}"/>'
            )
        parts.append(
            f'<g class="series" fill="{color}"><title>{escape(label)}</title>'
            + "".join(bars)
            + "</g>"
        )
    parts += _axes(plot.props["x_label"], plot.props["y_label"])
    parts += _legend(labels, "box")
    parts.append("</svg>")
    return "\n".join(parts)


def _confusion(plot: Plot, series: Series, *, normalized: bool, label: str) -> str:
    """dvc's confusion matrix of one series: a cell per (x, y) pair with its
    count, or with `normalized` its share of the x value's rows."""
    counts: dict[tuple[str, str], int] = {}
    for a, b in zip(series.x, series.y, strict=True):
        key = (str(a), str(b))
        counts[key] = counts.get(key, 0) + 1
    columns = sorted({a for a, _ in counts}, key=_sort_key)
    rows = sorted({b for _, b in counts}, key=_sort_key)
    totals = {c: sum(n for (a, _), n in counts.items() if a == c) for c in columns}
    cell_w = (W - LEFT - RIGHT) / max(len(columns), 1)
    cell_h = (H - TOP - BOTTOM) / max(len(rows), 1)
    shares = {k: n / totals[k[0]] if normalized else n for k, n in counts.items()}
    top = max(shares.values(), default=1) or 1
    parts = _frame(plot, [], label)
    for r, row in enumerate(rows):
        parts.append(
            f'<text x="{LEFT - 6}" y="{round(TOP + (r + 0.5) * cell_h + 4, 2)}" '
            f'text-anchor="end" font-size="11">{escape(row)}</text>'
        )
        for c, column in enumerate(columns):
            value = shares.get((column, row), 0)
            x, y = round(LEFT + c * cell_w, 2), round(TOP + r * cell_h, 2)
            opacity = round(0.08 + 0.92 * value / top, 3) if value else 0
            text = f"{value:.2f}" if normalized else str(value)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{round(cell_w, 2)}" '
                f'height="{round(cell_h, 2)}" fill="{COLORS[0]}" '
                f'fill-opacity="{opacity}" stroke="#fff"/>'
            )
            parts.append(
                f'<text x="{round(x + cell_w / 2, 2)}" y="{round(y + cell_h / 2 + 4, 2)}" '
                f'text-anchor="middle" font-size="11">{text}</text>'
            )
    for c, column in enumerate(columns):
        parts.append(
            f'<text x="{round(LEFT + (c + 0.5) * cell_w, 2)}" y="{H - BOTTOM + 18}" '
            f'text-anchor="middle" font-size="11">{escape(column)}</text>'
        )
    parts += _axes(plot.props["x_label"], plot.props["y_label"])
    parts.append("</svg>")
    return "\n".join(parts)


def _sort_key(value: str) -> tuple:
    number = _number(value)
    return (0, number, "") if number is not None else (1, 0.0, value)
