"""The batch report: every input with its output, status, colors, quality, sizes and time.

JSON (``.json``) for programs, CSV (``.csv``) for spreadsheets; the format comes
from the file name. Written atomically.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence

from palette_app.batch.result import JobResult

REPORT_FORMATS = (".json", ".csv")
#: Columns of the CSV report, in order (the JSON report's per-file keys, plus ``exact`` and ``notes``).
CSV_COLUMNS = ("input", "output", "status", "reason", "colors", "psnr", "delta_e",
               "bytes_before", "bytes_after", "seconds")


def report_format(path: str | os.PathLike) -> str:
    """'.json' or '.csv' from ``path``'s extension; ValueError otherwise."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in REPORT_FORMATS:
        raise ValueError(f"{os.fspath(path)}: a report must be a .json or .csv file")
    return ext


def summary(results: Iterable[JobResult], seconds: float | None = None) -> dict:
    """Counts per status, total input and output bytes, and the rate when ``seconds`` is given."""
    results = list(results)
    out: dict = {"total": len(results), "ok": 0, "failed": 0, "skipped": 0, "cancelled": 0}
    for r in results:
        out[r.status] += 1
    ok = [r for r in results if r.ok]
    out["bytes_before"] = sum(r.bytes_before or 0 for r in ok)
    out["bytes_after"] = sum(r.bytes_after or 0 for r in ok)
    if seconds is not None:
        out["seconds"] = round(seconds, 3)
        out["images_per_second"] = round(out["ok"] / seconds, 3) if seconds > 0 else None
    return out


def report_json(results: Sequence[JobResult], settings=None, seconds: float | None = None) -> str:
    doc = {
        "format": "palette-app/batch-report",
        "version": 1,
        "settings": None if settings is None else settings.to_dict(),
        "summary": summary(results, seconds),
        "files": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def report_csv(results: Sequence[JobResult]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in results:
        row = []
        for col in CSV_COLUMNS:
            v = getattr(r, col)
            if isinstance(v, float):
                v = "inf" if math.isinf(v) else ("" if math.isnan(v) else f"{v:.6g}")
            row.append("" if v is None else v)
        w.writerow(row)
    return buf.getvalue()


def write_report(path: str | os.PathLike, results: Sequence[JobResult], settings=None,
                 seconds: float | None = None) -> None:
    """Write the report to ``path`` (.json or .csv), replacing an older report."""
    from palette_app.io import atomic_write

    text = (report_json(results, settings, seconds) if report_format(path) == ".json"
            else report_csv(results))
    with atomic_write(path, overwrite=True) as f:
        f.write(text.encode("utf-8"))
