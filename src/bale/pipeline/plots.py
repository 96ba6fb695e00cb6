"""Plots of the workspace or of revisions, collected as DVC collects them
(`dvc/repo/plots/__init__.py`) and turned into series as its renderers take
them (`dvc/render/match.py`, `dvc/render/converter/vega.py`).

A plot is a stage's `plots:` output (a folder stands for the files inside
it) or an entry of a `dvc.yaml`'s top-level `plots:`: a data file (its id is
its path), or an id whose `y` maps files to columns. Its data is a CSV or TSV
file (one record a row, values as text, as DVC reads them), a JSON, YAML or
TOML file (its lists of records, merged row by row), or an image. x defaults
to `step`, the row's index; y to the last column of the first record.

Each revision is read through `metrics.opened_side`: the workspace from disk,
a revision from git and the cache. A data file or a definition that cannot
be read is reported beside the others; a revision whose `dvc.yaml` cannot be
read is reported whole, as DVC warns and shows the rest. Ids and paths are
root-relative, posix. Drawing is the caller's: this module gives values.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from bale.errors import BaleError, DvcFileError, TargetNotFoundError
from bale.formats.lockfile import LOCK_FILE, PIPELINE_FILE
from bale.formats.params import compose_yaml, construct_yaml, parse_params
from bale.hashing.walk import SKIP_DIRS
from bale.pipeline.metrics import (
    WORKSPACE,
    Files,
    file_text,
    has_commits,
    join_inside,
    opened_side,
    repo_git,
    stage_files,
)
from bale.repo.ignore import IGNORE_FILE
from bale.repo.repository import Repo

INDEX = "step"  # the x of a plot that names none: the row's index
PROPS = ("template", "x", "y", "x_label", "y_label", "title", "header")  # DVC's PLOT_PROPS
TEMPLATES = (
    "linear", "simple", "smooth", "scatter", "scatter_jitter", "bar_horizontal",
    "bar_horizontal_sorted", "confusion", "confusion_normalized",
)  # fmt: skip
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".gif", ".png", ".svg"})
# DVC's PARSERS and the separated-values formats (suffixes as written: DVC
# does not lower them).
DATA_EXTENSIONS = frozenset({".json", ".yaml", ".yml", ".toml", ".py", ".csv", ".tsv"})
INFERRED_X = "dvc_inferred_x_value"  # the x key when files name different x columns
INFERRED_Y = "dvc_inferred_y_value"  # the y key when the y columns differ
_SEP = "::"


class Definition(NamedTuple):
    """One plot's properties (`x`, `y`, `template`, `title`, ...) and the
    `dvc.yaml` that defines it ("" for a target named on the command line)."""

    props: dict[str, Any]
    origin: str


class Source(NamedTuple):
    """One data file: its parsed content (bytes for an image), or why not."""

    data: Any = None
    error: BaleError | None = None


class Revision(NamedTuple):
    """What one revision defines and holds. `definitions` maps each config
    file (a `dvc.yaml`; "" for stage outputs and targets) to plot id ->
    definition, in DVC's order; `error` when its `dvc.yaml` cannot be read."""

    definitions: dict[str, dict[str, Definition]]
    sources: dict[str, Source]
    error: BaleError | None = None


class Series(NamedTuple):
    """One line (or point set) of a plot: a revision's y column of one file,
    with the x of each row (None where a row lacks it)."""

    rev: str
    file: str  # the y file, less the prefix all y files of the plot share
    field: str
    x: list[Any]
    y: list[Any]


class Image(NamedTuple):
    rev: str
    path: str
    data: bytes


class Problem(NamedTuple):
    """A data file (`source`) or a definition (`source` None) of one
    revision that could not be read or drawn."""

    rev: str
    source: str | None
    error: BaleError


class Plot(NamedTuple):
    """One plot over every revision, as DVC's renderer receives it.

    `props` has `title`, `x` and `y` (the keys of `datapoints`), `x_label`,
    `y_label` and `template`; `datapoints` are DVC's flat records (a row,
    its `rev`, and `filename`/`field` where they vary); `revisions` are those
    with data, in order."""

    id: str
    kind: str  # "vega" (data) or "image"
    props: dict[str, Any]
    revisions: list[str]
    datapoints: list[dict[str, Any]]
    series: list[Series]
    images: list[Image]
    problems: list[Problem]


class Shown(NamedTuple):
    """The plots of some revisions; `errors` the revisions that could not be
    read whole; `loaded` whether any revision defined plots (DVC writes no
    page otherwise)."""

    plots: list[Plot]
    errors: list[tuple[str, BaleError]]
    loaded: bool


# -- revisions -------------------------------------------------------------------


def show(
    repo: Repo, revs: list[str] | None = None, *, targets: list[str] | None = None,
    props: dict[str, Any] | None = None,
) -> Shown:  # fmt: skip
    """The plots of `revs` (default: the workspace), the workspace first.

    `targets` (root-relative) pick plots by id (a regular expression matched
    at the start, as DVC's) and add data files no definition names; `props`
    override every plot's properties.

    Raises:
        GitRequiredError, RevisionNotFoundError: see `metrics.opened_side`.
    """
    revs = list(dict.fromkeys(revs or [WORKSPACE]))
    if WORKSPACE in revs:
        revs = [WORKSPACE] + [r for r in revs if r != WORKSPACE]
    by_rev: dict[str, Revision] = {}
    for rev in revs:
        with opened_side(repo, rev) as files:
            by_rev[rev] = collect(files, targets=targets, props=props)
    errors = [(rev, r.error) for rev, r in by_rev.items() if r.error is not None]
    loaded = any(r.definitions or r.error for r in by_rev.values())
    return Shown(plots_of(by_rev), errors, loaded)


def diff(
    repo: Repo, revs: list[str] | None = None, *, targets: list[str] | None = None,
    props: dict[str, Any] | None = None,
) -> Shown:  # fmt: skip
    """`show` of the revisions `plots diff` compares: those given, and the
    workspace when fewer than two are; with none, HEAD too when git's tracked
    files changed (DVC's rule). A repository without commits has nothing.

    Raises:
        GitRequiredError, RevisionNotFoundError: see `metrics.opened_side`.
    """
    if not has_commits(repo):
        return Shown([], [], False)
    chosen = list(revs or [])
    if len(chosen) <= 1:
        if not chosen and _dirty(repo):
            chosen.append("HEAD")
        chosen.append(WORKSPACE)
    return show(repo, chosen, targets=targets, props=props)


def _dirty(repo: Repo) -> bool:
    """Whether a file git tracks differs from HEAD (untracked ones aside)."""
    return bool(repo_git(repo).run("status", "--porcelain", "--untracked-files=no").strip())


# -- what one revision defines ---------------------------------------------------


def collect(
    files: Files, *, targets: list[str] | None = None, props: dict[str, Any] | None = None
) -> Revision:
    """The plot definitions of one side and the data files they read."""
    props = dict(props or {})
    output_props: dict[str, dict[str, Any]] = {}
    try:
        definitions = _definitions(files, list(targets or []), props, output_props)
    except BaleError as exc:
        return Revision({}, {}, exc)
    sources: dict[str, Source] = {}
    for config in definitions.values():
        for plot_id, definition in config.items():
            for path in data_sources(plot_id, definition.props):
                if path not in sources:
                    header = (_props_of_output(output_props, path) | props).get("header", True)
                    sources[path] = _load(files, path, header=header is not False)
    return Revision(definitions, sources)


def _definitions(
    files: Files, targets: list[str], props: dict[str, Any],
    output_props: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Definition]]:  # fmt: skip
    """DVC's `_collect_definitions`: each `dvc.yaml`'s top-level plots, then
    every stage's plot outputs, then targets that exist (or any target when
    nothing is defined). Fills `output_props`: stage output path -> props.

    Raises:
        DvcFileError: a `dvc.yaml` is malformed.
    """
    found: dict[str, dict[str, Definition]] = {}
    found_files = stage_files(files)
    for sf in found_files:
        if "plots" in sf.extra:
            config = posixpath.join(sf.folder, PIPELINE_FILE)
            entries = found.setdefault(config, {})
            _top_level(files, sf.folder, config, sf.extra["plots"], entries, targets, props)
    for sf in found_files:
        config = posixpath.join(sf.folder, PIPELINE_FILE)
        flags: dict[tuple[str, str], dict[str, Any]] | None = None
        for stage in sf.stages:
            wdir = join_inside(sf.folder, stage.wdir, origin=config)
            for out in stage.outs:
                if out.section != "plots":
                    continue
                if flags is None:
                    flags = _stage_plot_flags(files, config)
                own = flags.get((stage.name.split("@")[0], out.path), {})
                path = join_inside(wdir, out.path, origin=config)
                output_props[path] = own
                if _matches(targets, "", path):
                    entries = found.setdefault("", {})
                    for file in _unpack(files, path):
                        _merge(entries, file, Definition(own | props, config))
    for target in targets:
        if not found or _exists(files, target):
            entries = found.setdefault("", {})
            for file in _unpack(files, target):
                _merge(entries, file, Definition(dict(props), ""))
    return found


def _top_level(
    files: Files, folder: str, config: str, plots: Iterable[Any],
    entries: dict[str, Definition], targets: list[str], props: dict[str, Any],
) -> None:  # fmt: skip
    """DVC's `_resolve_definitions`: a path id (whose y names no files) is
    its data file, or the files of its folder that no deeper id claims; an
    id with files in y keeps its name, and its files become root-relative."""
    written: dict[str, dict[str, Any]] = {}
    for elem in plots:
        if isinstance(elem, str):
            written[elem] = {}
            continue
        if not elem:
            continue
        key, value = next(iter(elem.items()))
        if value is not None and not isinstance(value, dict):
            raise DvcFileError(config, f"plot '{key}' must map to its properties (x, y, "
                               "template, title, x_label, y_label), or to nothing")  # fmt: skip
        written[str(key)] = dict(value or {})
    parents = [join_inside(folder, plot_id, origin=config) for plot_id in written]
    for plot_id, plot_props in written.items():
        if not _matches(targets, config, plot_id):
            continue
        if isinstance(plot_props.get("y"), dict):
            entries[plot_id] = Definition(_rooted(plot_props, folder, config) | props, config)
            continue
        data_path = join_inside(folder, plot_id, origin=config)
        for file in _unpack(files, data_path):
            if _closest(file, parents) == data_path:
                _merge(entries, file, Definition(plot_props | props, config))


def _rooted(plot_props: dict[str, Any], folder: str, config: str) -> dict[str, Any]:
    """The files of x and y (mappings file -> columns) made root-relative."""
    done = dict(plot_props)
    for axis in ("x", "y"):
        value = done.get(axis)
        if isinstance(value, dict):
            done[axis] = {join_inside(folder, str(f), origin=config): v for f, v in value.items()}
    return done


def _closest(path: str, parents: list[str]) -> str:
    """The parent sharing the longest leading path with `path` (DVC's
    `_closest_parent`: a folder's file belongs to its deepest id)."""
    best = ""
    for parent in parents:
        common = posixpath.commonpath([path, parent]) if path and parent else ""
        if len(common) > len(best):
            best = common
    return best


def _stage_plot_flags(files: Files, config: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(stage, path as written) -> the plot properties in the stage's
    `plots:` flags, read from the file as written: `parse_pipeline` keeps
    no plot flags. A path built by `${}` finds none, and a flag built by
    `${}` is left out (DVC's defaults stand for them)."""
    text = file_text(files, config)
    data = construct_yaml(compose_yaml(text or "", config)) or {}
    stages = data.get("stages") if isinstance(data, dict) else None
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, stage in (stages or {}).items():
        if not isinstance(stage, dict):
            continue
        body = stage.get("do") if isinstance(stage.get("do"), dict) else stage
        for entry in body.get("plots") or ():
            if isinstance(entry, dict):
                for path, flags in entry.items():
                    if isinstance(flags, dict):
                        own = {k: flags[k] for k in PROPS if k in flags and not _built(flags[k])}
                        found.setdefault((str(name), str(path)), {}).update(own)
    return found


def _built(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _props_of_output(output_props: dict[str, dict[str, Any]], path: str) -> dict[str, Any]:
    for out, own in output_props.items():
        if path == out or path.startswith(out + "/"):
            return own
    return {}


def _matches(targets: list[str], config: str, plot_id: str) -> bool:
    """DVC's `_matches`: any target matches the start of the id, or of
    `config::id`."""
    if not targets:
        return True
    full = f"{config}{_SEP}{plot_id}" if config else plot_id
    for target in targets:
        try:
            if re.match(target, plot_id) or re.match(target, full):
                return True
        except re.error:
            if target in (plot_id, full):
                return True
    return False


def _unpack(files: Files, path: str) -> list[str]:
    """A folder's files (its `dvc.yaml`, `dvc.lock`, `.dvc` and `.dvcignore`
    files and what `.git` and `.dvc` hold left out, as DVC's filesystem
    hides them), or the path itself."""
    inside = files.files_under(path)
    if not inside:
        return [path]
    return [f for f in inside if not _is_dvc_file(posixpath.basename(f))
            and SKIP_DIRS.isdisjoint(f.split("/"))]  # fmt: skip


def _is_dvc_file(name: str) -> bool:
    return name in (PIPELINE_FILE, LOCK_FILE, IGNORE_FILE) or name.endswith(".dvc")


def _exists(files: Files, path: str) -> bool:
    try:
        return bool(files.files_under(path)) or files.read(path) is not None
    except BaleError:
        return True  # it exists, but cannot be read: its source says why


def _merge(entries: dict[str, Definition], key: str, definition: Definition) -> None:
    """dpath's merge: a second definition of an id adds to the first's props."""
    have = entries.get(key)
    if have is None:
        entries[key] = definition
    else:
        entries[key] = Definition(have.props | definition.props, have.origin)


def data_sources(plot_id: str, props: dict[str, Any]) -> list[str]:
    """The files a plot reads (DVC's `infer_data_sources`): y's files, or the
    id itself, and the first file of x."""
    y, x = props.get("y"), props.get("x")
    sources = [str(f) for f in y] if isinstance(y, dict) else [plot_id]
    if isinstance(x, dict) and x:
        sources.append(str(next(iter(x))))
    return list(dict.fromkeys(sources))


# -- reading data ----------------------------------------------------------------


def _load(files: Files, path: str, *, header: bool) -> Source:
    try:
        return Source(parse_data(files, path, header=header))
    except BaleError as exc:
        return Source(None, exc)


def parse_data(files: Files, path: str, *, header: bool = True) -> Any:
    """One plots file's content: the bytes of an image, the records of a CSV
    or TSV file (values as text; with `header` false, columns named "0",
    "1", ...), or a JSON, YAML or TOML document.

    Raises:
        TargetNotFoundError: there is no such file.
        DvcFileError: it is of no plots format, or malformed.
    """
    ext = posixpath.splitext(path)[1]
    if ext in IMAGE_EXTENSIONS:
        data = files.read(path)
        if data is None:
            raise TargetNotFoundError(path)
        return data
    if ext not in DATA_EXTENSIONS:
        raise DvcFileError(path, "not a plots file: plots read JSON, YAML, TOML, CSV and TSV "
                           "files and images (.png, .jpg, .jpeg, .gif, .svg)")  # fmt: skip
    text = file_text(files, path)
    if text is None:
        raise TargetNotFoundError(path)
    if ext in (".csv", ".tsv"):
        return _rows(text, "\t" if ext == ".tsv" else ",", header=header)
    if ext == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise DvcFileError(path, f"malformed JSON: {exc}; fix it") from exc
    if ext in (".toml", ".py"):
        return parse_params(text, path)
    return construct_yaml(compose_yaml(text, path))


def _rows(text: str, delimiter: str, *, header: bool) -> list[dict[str, Any]]:
    import csv
    import io

    names = None
    if not header:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        names = [str(i) for i in range(len(first))]
    return list(csv.DictReader(io.StringIO(text), fieldnames=names, delimiter=delimiter))


# -- plots over revisions --------------------------------------------------------


def plots_of(by_rev: dict[str, Revision]) -> list[Plot]:
    """Each plot id's plot over the revisions, ids in the order first defined
    (DVC's `match_defs_renderers`). An id defined in two config files is
    named `config::id` in each."""
    groups: dict[str, list[tuple[str, str, Definition]]] = {}
    for rev, revision in by_rev.items():
        for plot_id, (inner, definition) in _by_id(revision.definitions).items():
            groups.setdefault(plot_id, []).append((rev, inner, definition))
    return [_plot(plot_id, group, by_rev) for plot_id, group in groups.items()]


def _by_id(
    definitions: dict[str, dict[str, Definition]],
) -> dict[str, tuple[str, Definition]]:
    configs: dict[str, dict[str, Definition]] = {}
    for config, entries in definitions.items():
        for plot_id, definition in entries.items():
            configs.setdefault(plot_id, {})[config] = definition
    found: dict[str, tuple[str, Definition]] = {}
    for plot_id, by_config in configs.items():
        for config, definition in by_config.items():
            full = plot_id if len(by_config) == 1 or not config else f"{config}{_SEP}{plot_id}"
            found[full] = (plot_id, definition)
    return found


def _plot(
    plot_id: str, group: list[tuple[str, str, Definition]], by_rev: dict[str, Revision]
) -> Plot:
    props: dict[str, Any] = {}
    for _rev, _inner, definition in reversed(group):  # the first revision's props win
        props = props | definition.props
    first: dict[str, Any] = {}
    revisions: list[str] = []
    datapoints: list[dict[str, Any]] = []
    series: list[Series] = []
    images: list[Image] = []
    problems: list[Problem] = []
    image = False
    name = plot_id
    for rev, inner, definition in group:
        sources = by_rev[rev].sources
        wanted = data_sources(inner, definition.props)
        data = {s: sources[s].data for s in wanted if s in sources and sources[s].data}
        for s in wanted:
            error = sources[s].error if s in sources else None
            if error is not None:
                problems.append(Problem(rev, s, error))
        image = posixpath.splitext(inner)[1] in IMAGE_EXTENSIONS
        if image:
            name = inner
            images += [Image(rev, path, content) for path, content in data.items()
                       if isinstance(content, bytes)]  # fmt: skip
            found, rev_props = bool(data), props
        else:
            name = plot_id
            try:
                points, lines, rev_props = _convert(inner, props, data, rev, definition.origin)
            except DvcFileError as exc:
                problems.append(Problem(rev, None, exc))
                continue
            datapoints += points
            series += lines
            found = bool(points)
        if found and rev not in revisions:
            revisions.append(rev)
        if not first and rev_props:
            first = rev_props
    shown = {
        "title": first.get("title", name),
        "x": first.get("x"),
        "y": first.get("y"),
        "x_label": first.get("x_label", first.get("x")),
        "y_label": first.get("y_label", first.get("y")),
        "template": first.get("template") or "linear",
    }
    if image:
        return Plot(name, "image", shown, revisions, [], [], images, problems)
    _trim(datapoints, first.get("y_definitions", []))
    return Plot(name, "vega", shown, revisions, datapoints, series, [], problems)


def _trim(datapoints: list[dict[str, Any]], y_definitions: list[tuple[str, str]]) -> None:
    """DVC's renderer keeps `filename` and `field` only where they vary
    between the plot's y columns, joined as `filename::field` when both do."""
    varied = []
    if len(y_definitions) > 1:
        for i, key in enumerate(("filename", "field")):
            if len({d[i] for d in y_definitions}) > 1:
                varied.append(key)
    both = len(varied) == 2
    keys = ("filename", "field")
    remove = list(keys) if both else [k for k in keys if k not in varied]
    for point in datapoints:
        if both:
            point[_SEP.join(varied)] = _SEP.join(str(point.get(k)) for k in varied)
        for key in remove:
            point.pop(key, None)


def _lists(blob: Any) -> Iterable[list]:
    if isinstance(blob, list):
        yield blob
    elif isinstance(blob, dict):
        for value in blob.values():
            if isinstance(value, dict):
                yield from _lists(value)
            elif isinstance(value, list):
                yield value


def records(content: Any) -> list[dict[str, Any]]:
    """The rows of a plots file (DVC's `get_datapoints`): each list of
    records with the same keys, merged by index."""
    found: list[dict[str, Any]] = []
    for lst in _lists(content):
        if not lst or not all(isinstance(item, dict) for item in lst):
            continue
        keys = set(lst[0])
        if any(set(item) - keys for item in lst):
            continue
        for index, item in enumerate(lst):
            if len(found) <= index:
                found.append({})
            found[index].update(item)
    return found


def _fields(axis: Any) -> list[tuple[str, str]]:
    """(file, column) of an axis mapping, a column list giving several."""
    pairs: list[tuple[str, str]] = []
    if isinstance(axis, dict):
        for file, value in axis.items():
            if isinstance(value, str):
                pairs.append((str(file), value))
            elif isinstance(value, list):
                pairs += [(str(file), str(v)) for v in value]
    return pairs


def _convert(
    plot_id: str, props: dict[str, Any], data: dict[str, Any], rev: str, origin: str
) -> tuple[list[dict[str, Any]], list[Series], dict[str, Any]]:
    """One revision's flat datapoints, series and properties (DVC's
    `VegaConverter.flat_datapoints`).

    Raises:
        DvcFileError: x or y names a column the data lacks, or x and y do
            not pair up.
    """
    rows = {file: records(content) for file, content in data.items()}
    x, y = props.get("x"), props.get("y")
    if isinstance(x, str):
        if isinstance(y, dict):
            x = {f: [x] * len(v) if isinstance(v, list) else x for f, v in y.items()}
        else:
            x = {plot_id: x}
    if y is None:
        y = _last_column(plot_id, data)
    elif not isinstance(y, dict):
        y = {plot_id: y}
    where = origin or plot_id

    def verified(axis: Any) -> list[tuple[str, str]]:
        pairs = _fields(axis)
        for file, field in pairs:
            if file in rows and (not rows[file] or field not in rows[file][0]):
                have = ", ".join(rows[file][0]) if rows[file] else "none"
                problem = (f"plot '{plot_id}': no column '{field}' in '{file}' at {rev} "
                           f"(its columns: {have}); fix the plot's x or y")  # fmt: skip
                raise DvcFileError(where, problem)
        return pairs

    xs, ys = verified(x), verified(y)
    x_file, x_field = xs[0] if xs else (None, INDEX)
    several_x = len(xs) > 1 and len({f for _, f in xs}) > 1
    x_key = INFERRED_X if several_x else x_field
    if len(xs) > 1 and len(xs) != len(ys):
        raise DvcFileError(where, f"plot '{plot_id}': {len(xs)} x columns for {len(ys)} y "
                           "columns; give one x, or one per y")  # fmt: skip
    y_fields = list(dict.fromkeys(f for _, f in ys))
    y_files = list(dict.fromkeys(f for f, _ in ys))
    y_key = INFERRED_Y if len(y_fields) > 1 else (y_fields[0] if y_fields else None)
    cut = len(posixpath.commonpath(y_files)) if len(y_files) > 1 else 0
    y_definitions = [(_short(f, cut), field) for f, field in ys]

    points: list[dict[str, Any]] = []
    lines: list[Series] = []
    for i, (y_file, y_field) in enumerate(ys):
        if len(xs) > 1:
            x_file, x_field = xs[i]
        batch = [dict(row) for row in rows.get(y_file, [])]
        if y_key == INFERRED_Y:
            for point in batch:
                if y_field in point:
                    point[INFERRED_Y] = point[y_field]
        if x_field == INDEX and x_file is None:
            for index, point in enumerate(batch):
                point[INDEX] = index
        else:
            source = rows.get(x_file or "", [])
            if len(source) != len(batch):
                raise DvcFileError(where, f"plot '{plot_id}': '{x_field}' of '{x_file}' and "
                                   f"'{y_field}' of '{y_file}' differ in length at {rev}; "
                                   "give them the same rows")  # fmt: skip
            for point, other in zip(batch, source, strict=True):
                if x_field in other:
                    point[x_key] = other[x_field]
        short = _short(y_file, cut)
        for point in batch:
            point.update({"rev": rev, "filename": short, "field": y_field})
        if batch:
            lines.append(Series(rev, short, y_field, [p.get(x_key) for p in batch],
                                [p.get(y_key) for p in batch]))  # fmt: skip
        points += batch
    if not points:
        return [], [], {}
    done = {k: v for k, v in props.items() if k in PROPS}
    done.update(x=x_key, y=y_key, y_definitions=y_definitions)
    given_x, given_y = props.get("x_label"), props.get("y_label")
    done["x_label"] = given_x if given_x is not None else _label(x, "x", INDEX)
    done["y_label"] = given_y if given_y is not None else _label(y, "y", None)
    return points, lines, done


def _last_column(plot_id: str, data: dict[str, Any]) -> dict[str, str] | None:
    for lst in _lists(data.get(plot_id)):
        if lst and all(isinstance(item, dict) for item in lst) and lst[0]:
            return {plot_id: str(list(lst[0])[-1])}
    return None


def _label(axis: Any, several: str, default: str | None) -> str | None:
    """DVC's inferred axis label: the one column named, else `several`."""
    if isinstance(axis, list):
        return several
    if not isinstance(axis, dict):
        return default
    fields = {f for _, f in _fields(axis)}
    return next(iter(fields)) if len(fields) == 1 else several


def _short(path: str, cut: int) -> str:
    return path[cut:].strip("/")
