"""Metric rows for the Trainer: kept in memory, written to ``<log_dir>/metrics.csv`` and drawn as
``<log_dir>/curves.png``.

metrics.csv has one row per logging event (a training step every ``log_every_n_steps``, a validation run in the
middle of an epoch, the end of an epoch). Its first columns are always ``step`` (0-based index of the optimizer
step the row belongs to) and ``epoch``, then the metric columns in the order they were first seen; a metric
absent from a row is an empty cell. Floats are written with ``repr`` so they read back bit for bit. When a new
metric appears, the file is rewritten (atomically) with the wider header; otherwise rows are appended.
"""
import csv
import io
import math
import os
import warnings

from .checkpoint import atomic_write

__all__ = ["CSVLogger"]

_INT_COLUMNS = ("step", "epoch")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(float(value))


def _parse(column, text):
    if text == "":
        return None
    return int(text) if column in _INT_COLUMNS else float(text)


class CSVLogger:
    """The metric rows of one run and the files they are written to."""

    file_name = "metrics.csv"
    curves_name = "curves.png"

    def __init__(self, log_dir):
        self.log_dir = os.fspath(log_dir)
        self.path = os.path.join(self.log_dir, self.file_name)
        self.curves_path = os.path.join(self.log_dir, self.curves_name)
        self.rows = []
        self.columns = list(_INT_COLUMNS)
        self._file_columns = None  # the header the file on disk has (None: file not written by this run)
        self._written = 0          # rows already in the file

    def start(self, columns=()):
        """Begin a fresh run: forget earlier rows; ``columns`` are declared up front so the header is stable."""
        os.makedirs(self.log_dir, exist_ok=True)
        if os.path.exists(self.path):
            warnings.warn(f"{self.path} already exists: it is replaced by this run's metrics (give each run its "
                          f"own log_dir to keep both)", UserWarning, stacklevel=3)
        self.rows, self._file_columns, self._written = [], None, 0
        self.columns = list(_INT_COLUMNS)
        self._add_columns(columns)

    def _add_columns(self, names):
        for name in names:
            if name not in self.columns:
                self.columns.append(name)

    def log(self, row):
        """Add one row (a dict with ``step``, ``epoch`` and metric values as floats)."""
        self._add_columns(row)
        self.rows.append(row)

    def updated_last(self, row):
        """The last row (``row``) got more values after it was logged."""
        self._add_columns(row)
        if self._written == len(self.rows):  # already in the file: rewrite it at the next flush
            self._file_columns = None

    def flush(self):
        """Bring metrics.csv up to date: append new rows, or rewrite the file when the header grew."""
        if self._file_columns == self.columns:
            if self._written == len(self.rows):
                return
            with open(self.path, "a", newline="") as fh:
                self._write_rows(csv.writer(fh), self.rows[self._written:])
                fh.flush()
                os.fsync(fh.fileno())
        else:
            def write(fh):
                writer = csv.writer(fh)
                writer.writerow(self.columns)
                self._write_rows(writer, self.rows)
            os.makedirs(self.log_dir, exist_ok=True)
            atomic_write(self.path, write, mode="w")
            self._file_columns = list(self.columns)
        self._written = len(self.rows)

    def _write_rows(self, writer, rows):
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in self.columns])

    def restore(self, n_rows):
        """Resume: keep the first ``n_rows`` rows of the existing metrics.csv (those logged before the checkpoint;
        later ones are logged again by the resumed run) and rewrite the file with them."""
        os.makedirs(self.log_dir, exist_ok=True)
        self.rows, self._file_columns, self._written = [], None, 0
        self.columns = list(_INT_COLUMNS)
        if os.path.exists(self.path):
            with open(self.path, newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader, None) or []
                self._add_columns(header)
                for cells in reader:
                    if len(self.rows) == n_rows:
                        break
                    if len(cells) != len(header):
                        break  # a row cut short by a crash while appending
                    self.rows.append({c: v for c, v in ((c, _parse(c, t)) for c, t in zip(header, cells))
                                      if v is not None})
        if len(self.rows) < n_rows:
            warnings.warn(f"{self.path} holds {len(self.rows)} metric rows, but the checkpoint was written after "
                          f"{n_rows}: the missing rows are not in metrics.csv", UserWarning, stacklevel=3)
        self.flush()

    def series(self, name):
        """``(steps, values)`` of every row that has ``name``."""
        pts = [(r["step"], r[name]) for r in self.rows if r.get(name) is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    def write_curves(self):
        """Draw the learning curves (losses; learning rate) into curves.png; returns its path, or None when
        there is nothing to draw yet."""
        from PIL import Image

        from zoo.core.plot import line_plot

        panels = [("loss", ("train_loss", "train_loss_epoch", "val_loss")), ("learning rate", ("lr",))]
        images = []
        for title, names in panels:
            series = {n: self.series(n) for n in names}
            series = {n: s for n, s in series.items() if any(math.isfinite(v) for v in s[1])}
            if not series:
                continue
            values = [v for _, ys in series.values() for v in ys if math.isfinite(v)]
            wide = min(values) > 0 and max(values) >= 10 * min(values)  # spans a decade: log scale
            buf = io.BytesIO()
            line_plot(series, buf, title=title, xlabel="step", ylabel=title, size=(900, 420), logy=wide)
            buf.seek(0)
            images.append(Image.open(buf).convert("RGB"))
        if not images:
            return None
        width = max(im.width for im in images)
        sheet = Image.new("RGB", (width, sum(im.height for im in images)), "white")
        top = 0
        for im in images:
            sheet.paste(im, (0, top))
            top += im.height
        atomic_write(self.curves_path, lambda fh: sheet.save(fh, format="PNG"))
        return self.curves_path
