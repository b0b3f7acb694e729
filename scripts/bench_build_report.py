"""Sizes (and build times) of Lambda bootstraps.

    python scripts/bench_build_report.py [--no-zip] DIR [TIMINGS_DIR]

DIR holds one folder per function with its `bootstrap` (target/lambda, .aws-sam/build).
Prints each bootstrap's size and zipped size (Python's zipfile with deflate, as `sam deploy`
zips a function) and, with TIMINGS_DIR (a target directory of a `cargo build --timings`),
each binary's own compile-and-link time; writes the table as DIR/../<name of DIR>-sizes.tsv.
--no-zip leaves the zipped sizes out (make test's unoptimised build is never deployed, and
deflating its ~1.5 GB of bootstraps costs a minute of CPU).
"""

import glob
import io
import json
import os
import re
import sys
import zipfile


def zipped_size(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "bootstrap")
    return len(buffer.getvalue())


def unit_times(directory):
    """Seconds per `evreg-functions` binary, from the newest cargo-timing-*.html."""
    if not directory:
        return {}
    reports = sorted(glob.glob(os.path.join(directory, "cargo-timings", "cargo-timing-*.html")))
    if not reports:
        return {}
    text = open(reports[-1], encoding="utf-8").read()
    match = re.search(r"const UNIT_DATA = (\[.*?\]);\n", text, re.S)
    if not match:
        return {}
    times = {}
    for unit in json.loads(match.group(1)):
        target = unit.get("target", "")
        if unit.get("name") == "evreg-functions" and "bin" in target:
            # ` events-list "bin"` (cargo 1.9x) or ` bin "events-list"` (older).
            name = next(w.strip('"') for w in target.split() if w.strip('"') != "bin")
            times[name] = unit["duration"]
    return times


def main():
    args = sys.argv[1:]
    zipped = "--no-zip" not in args
    args = [a for a in args if a != "--no-zip"]
    directory = args[0].rstrip("/")
    times = unit_times(args[1] if len(args) > 1 else None)
    rows = []
    for bootstrap in sorted(glob.glob(os.path.join(directory, "*", "bootstrap"))):
        name = os.path.basename(os.path.dirname(bootstrap))
        rows.append((name, os.path.getsize(bootstrap),
                     zipped_size(bootstrap) if zipped else None, times.get(name)))
    tsv = os.path.join(os.path.dirname(directory), os.path.basename(directory) + "-sizes.tsv")
    with open(tsv, "w", encoding="utf-8") as out:
        out.write("function\tbootstrap_bytes\tzipped_bytes\tunit_seconds\n")
        for name, size, zip_size, seconds in rows:
            out.write(f"{name}\t{size}\t{'' if zip_size is None else zip_size}\t"
                      f"{'' if seconds is None else f'{seconds:.1f}'}\n")
    mb = lambda n: n / 1_000_000
    for name, size, zip_size, seconds in rows:
        zip_column = "" if zip_size is None else f"  {mb(zip_size):5.2f} MB zipped"
        unit = "" if seconds is None else f"  {seconds:6.1f} s"
        print(f"{name:34} {mb(size):6.2f} MB{zip_column}{unit}")
    if rows:
        total_zipped = "" if not zipped else f", {mb(sum(r[2] for r in rows)):.1f} MB zipped"
        total_unit = "" if not times else f"; binaries' own units {sum(r[3] or 0 for r in rows):.0f} s in all"
        print(
            f"{len(rows)} bootstraps: {mb(sum(r[1] for r in rows)):.1f} MB{total_zipped};"
            f" largest {mb(max(r[1] for r in rows)):.2f} MB,"
            f" smallest {mb(min(r[1] for r in rows)):.2f} MB{total_unit}"
        )

if __name__ == "__main__":
    main()
