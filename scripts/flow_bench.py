#!/usr/bin/env python3
"""Place-and-route benchmarks of accgen's blocks on the open FPGA targets.

Runs `accgen flow CONFIG --target T` for every (design, target) pair and
collects each run's summary.json (Fmax, utilisation, bitstream size) and
its wall time into a CSV and a Markdown table. A design that does not fit
a device becomes a row naming what overflowed, as `accgen flow` reports it.

    scripts/flow_bench.py                      # the benchmark table (reports/flow/benchmarks.*)
    scripts/flow_bench.py --pipeline-sweep     # Fmax against pipeline depth (reports/flow/pipeline.*)

`--designs`, `--targets` and `--depths` choose a subset, `--merge` keeps
the report's other rows (`--merge-from CSV` adds another report's), and
`--reuse` skips rows the report has and takes finished runs' summary.json.

Every benchmark design runs behind the board's UART wrapper (4 pins), as a
user would load it: MAC arrays, the hash grid and the spiking core alike.
The pipeline sweep's spiking cores run bare (`--bare`, pins chosen by
nextpnr), as reports/flow/pipeline.* were measured. Runs are sequential: on
a shared machine their wall times are indicative only.
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["ice40-up5k", "ice40-hx8k", "ecp5-25k", "ecp5-85k"]
# (name, config, extra `accgen flow` flags, targets: None for all four).
# A design whose multipliers overflow the UP5K's 8 DSP blocks also runs
# there with `--no-dsp` (every multiplier in LUTs).
DESIGNS = [
    ("int8_4x4", "examples/int8_4x4.yaml", [], None),
    ("int8_4x4_nodsp", "examples/int8_4x4.yaml", ["--no-dsp"], ["ice40-up5k"]),
    ("e4m3fn_4x4_fp16", "examples/e4m3fn_4x4_fp16.yaml", [], None),
    ("hashgrid_tiny_2d", "examples/hashgrid_tiny_2d.yaml", [], None),
    ("hashgrid_tiny_2d_nodsp", "examples/hashgrid_tiny_2d.yaml", ["--no-dsp"], ["ice40-up5k"]),
    ("snn_lava_loihi_64", "examples/snn_lava_loihi_64.yaml", [], None),
    ("snn_two_layer_65_33_10", "examples/snn_two_layer_65_33_10.yaml", [], None),
]
# Fmax against pipeline depth: the two arrays and targets of issue 7, with
# the default (dsp) multiplier; on the UP5K, whose 8 DSPs cannot hold 16
# multipliers, also the int8 array with `multiplier: lut`. The spiking core
# (`spiking_core.pipeline`, 0..3) runs bare: Lava's 64-neuron core, and on
# the UP5K (39 pins) the same core at 32 neurons and 16 inputs (36 pins).
# (name, config, section, extra keys of the section, targets, bare, deepest pipeline)
SWEEP_DESIGNS = [
    ("int8_4x4", "examples/int8_4x4.yaml", "mac_array", [], ["ice40-up5k", "ecp5-25k"], False, 3),
    ("int8_4x4_lut", "examples/int8_4x4.yaml", "mac_array", ["multiplier: lut"], ["ice40-up5k"], False, 3),
    ("e4m3fn_4x4_fp16", "examples/e4m3fn_4x4_fp16.yaml", "mac_array", [], ["ice40-up5k", "ecp5-25k"], False, 3),
    # The exact E4M3 4x4 array needs about 9,000 logic cells, more than the
    # UP5K's 5,280 (the rows above record the overflow): a 2x2 array of the
    # same PEs and rounders gives the UP5K's Fmax against pipeline depth.
    (
        "e4m3fn_2x2_fp16",
        "examples/e4m3fn_4x4_fp16.yaml",
        "mac_array",
        ["rows: 2", "cols: 2"],
        ["ice40-up5k"],
        False,
        3,
    ),
    # The same arrays with two register stages in each output rounder.
    (
        "e4m3fn_2x2_fp16_rp2",
        "examples/e4m3fn_4x4_fp16_rp2.yaml",
        "mac_array",
        ["rows: 2", "cols: 2"],
        ["ice40-up5k"],
        False,
        3,
    ),
    ("e4m3fn_4x4_fp16_rp2", "examples/e4m3fn_4x4_fp16_rp2.yaml", "mac_array", [], ["ecp5-25k"], False, 3),
    ("snn_lava_loihi_64", "examples/snn_lava_loihi_64.yaml", "spiking_core", [], ["ice40-hx8k", "ecp5-25k"], True, 3),
    (
        "snn_lava_loihi_32",
        "examples/snn_lava_loihi_64.yaml",
        "spiking_core",
        ["neurons: 32", "inputs: 16"],
        ["ice40-up5k"],
        True,
        3,
    ),
]

FIELDS = [
    "design",
    "target",
    "pipeline",
    "result",
    "fmax_mhz",
    "constraint_mhz",
    "luts",
    "luts_available",
    "ffs",
    "ffs_available",
    "dsp",
    "dsp_available",
    "bram",
    "bram_available",
    "io",
    "io_available",
    "bitstream_bytes",
    "seconds_synth",
    "seconds_pnr",
    "seconds_pack",
    "seconds_wall",
]


def resource(summary, *names):
    for r in summary["resources"]:
        if r["resource"] in names:
            return r["used"], r["available"]
    return "", ""


def run(accgen, name, config, target, flags, out, pipeline="", reuse=False):
    """`accgen flow CONFIG --target TARGET FLAGS`; its folder is named after
    the target with `-bare` / `-nodsp` for those flags, as accgen names it."""
    suffix = ("-bare" if "--bare" in flags else "") + ("-nodsp" if "--no-dsp" in flags else "")
    folder = out / config_name(config) / (target + suffix)
    if reuse and (folder / "summary.json").exists():
        print(f"reusing {folder / 'summary.json'}", file=sys.stderr, flush=True)
        return from_summary(name, target, pipeline, json.loads((folder / "summary.json").read_text()), None)
    cmd = [accgen, "flow", str(config), "--target", target, "--out", str(out)] + flags
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = round(time.monotonic() - start, 1)
    row = dict.fromkeys(FIELDS, "")
    row.update(design=name, target=target, pipeline=pipeline, seconds_wall=wall)
    if proc.returncode != 0:
        text = proc.stderr.strip()
        fit = re.search(r"does not fit [^:]*: (.*?) overflowed", text)
        pins = re.search(r"its ports need (\d+) pins, the package has (\d+)", text)
        if pins:
            row["result"] = f"does not fit: IO ({pins.group(1)} pins of {pins.group(2)})"
        elif fit:
            row["result"] = "does not fit: " + fit.group(1)
        else:
            first = text.splitlines()[0] if text else f"exit {proc.returncode}"
            row["result"] = "failed: " + first.removeprefix("error: ")[:200]
        print("  " + row["result"], file=sys.stderr, flush=True)
        return row
    summary = json.loads((folder / "summary.json").read_text())
    row = from_summary(name, target, pipeline, summary, wall)
    print(f"  Fmax {row['fmax_mhz']} MHz, {wall} s", file=sys.stderr, flush=True)
    return row


def from_summary(name, target, pipeline, summary, wall):
    """A row from a flow's summary.json; without a measured wall time (a
    reused run), the tools' own seconds stand for it."""
    row = dict.fromkeys(FIELDS, "")
    row.update(design=name, target=target, pipeline=pipeline)
    row["result"] = "ok"
    row["fmax_mhz"] = round(summary["fmax_mhz"], 1)
    row["constraint_mhz"] = summary["constraint_mhz"]
    row["luts"], row["luts_available"] = resource(summary, "LUTs")
    row["ffs"], row["ffs_available"] = resource(summary, "FFs")
    row["dsp"], row["dsp_available"] = resource(summary, "DSP")
    row["bram"], row["bram_available"] = resource(summary, "BRAM")
    row["io"], row["io_available"] = resource(summary, "IO")
    row["bitstream_bytes"] = summary["bitstream_bytes"]
    for k in ("seconds_synth", "seconds_pnr", "seconds_pack"):
        row[k] = summary[k]
    if wall is None:
        wall = round(summary["seconds_synth"] + summary["seconds_pnr"] + summary["seconds_pack"], 1)
    row["seconds_wall"] = wall
    return row


def config_name(config):
    """The `name:` of a configuration (accgen's output folder)."""
    for line in Path(ROOT / config).read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"{config} has no `name:`")


def with_pipeline(config, name, section, extra, depth, folder):
    """A copy of a configuration with `pipeline: depth` (and the `extra`
    keys) in its `section` under its own name."""
    text = (ROOT / config).read_text()
    name = f"{name}_p{depth}"
    keys = {e.split(":")[0] for e in extra}
    lines = []
    for line in text.splitlines():
        if line.startswith("name:"):
            line = f"name: {name}"
        if line.startswith("  ") and line.strip().split(":")[0] in keys:
            continue  # replaced by `extra`
        lines.append(line)
        if line.startswith(section + ":"):
            lines.append(f"  pipeline: {depth}")
            lines.extend("  " + e for e in extra)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return name, path


def cell(used, available):
    return f"{used}/{available}" if used != "" and available != "" else (str(used) if used != "" else "-")


def markdown(rows, with_pipeline_column):
    head = ["design"] + (["pipeline"] if with_pipeline_column else []) + ["target"]
    head += ["Fmax MHz", "LUTs (iCE40: LCs)", "FFs", "DSP", "BRAM", "IO", "bitstream bytes", "flow wall s"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lead = [r["design"]] + ([str(r["pipeline"])] if with_pipeline_column else []) + [r["target"]]
        if r["result"] != "ok":
            rest = [r["result"]] + [""] * 6 + [str(r["seconds_wall"])]
        else:
            fmax = str(r["fmax_mhz"])
            if r["constraint_mhz"] != "" and float(r["fmax_mhz"]) < float(r["constraint_mhz"]):
                fmax += f" (fails the {r['constraint_mhz']} MHz clock)"
            rest = [
                fmax,
                cell(r["luts"], r["luts_available"]),
                cell(r["ffs"], r["ffs_available"]),
                cell(r["dsp"], r["dsp_available"]),
                cell(r["bram"], r["bram_available"]),
                cell(r["io"], r["io_available"]),
                str(r["bitstream_bytes"]),
                str(r["seconds_wall"]),
            ]
        out.append("| " + " | ".join(lead + rest) + " |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accgen", default=str(ROOT / "target/release/accgen"))
    ap.add_argument("--out", default="bitstreams/bench", help="where accgen flow writes (relative to the repository)")
    ap.add_argument("--report", default="reports/flow", help="where the CSV and Markdown go")
    ap.add_argument("--targets", default=None, help="comma-separated targets")
    ap.add_argument("--designs", default=None, help="comma-separated design names")
    ap.add_argument(
        "--pipeline-sweep", action="store_true", help="Fmax against pipeline depth (MAC arrays and spiking cores, 0..3)"
    )
    ap.add_argument("--depths", default=None, help="comma-separated pipeline depths [default: every depth of a design]")
    ap.add_argument(
        "--reuse", action="store_true", help="take a run's existing summary.json instead of running it again"
    )
    ap.add_argument(
        "--merge",
        action="store_true",
        help="keep the report's other rows, replacing those of the same design, target and depth",
    )
    ap.add_argument("--merge-from", action="append", default=[], help="also merge the rows of this CSV")
    args = ap.parse_args()
    out = ROOT / args.out
    stem = "pipeline" if args.pipeline_sweep else "benchmarks"
    report = ROOT / args.report
    report.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.merge and (report / f"{stem}.csv").exists():
        with open(report / f"{stem}.csv") as f:
            rows = list(csv.DictReader(f))
    for extra in args.merge_from:
        with open(ROOT / extra) as f:
            for r in csv.DictReader(f):
                rows = [x for x in rows if (x["design"], x["target"], x["pipeline"]) != (r["design"], r["target"], r["pipeline"])]
                rows.append(r)

    def done(name, target, depth):
        """With --reuse, a row the report already has is not run again."""
        return args.reuse and any((r["design"], r["target"], str(r["pipeline"])) == (name, target, str(depth)) for r in rows)

    design_order = [d[0] for d in (SWEEP_DESIGNS if args.pipeline_sweep else DESIGNS)]

    def order(r):
        d = design_order.index(r["design"]) if r["design"] in design_order else len(design_order)
        t = TARGETS.index(r["target"]) if r["target"] in TARGETS else len(TARGETS)
        return (d, r["design"], t, str(r["pipeline"]))

    def add(row):
        # Rows are written after every run, so an interrupted sweep keeps its results.
        key = (row["design"], row["target"], str(row["pipeline"]))
        old = [i for i, r in enumerate(rows) if (r["design"], r["target"], str(r["pipeline"])) == key]
        if old:
            rows[old[0]] = row
        else:
            rows.append(row)
        write()

    def write():
        rows.sort(key=order)
        with open(report / f"{stem}.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        (report / f"{stem}.md").write_text(markdown(rows, args.pipeline_sweep))

    if args.pipeline_sweep:
        designs = [d for d in SWEEP_DESIGNS if not args.designs or d[0] in args.designs.split(",")]
        for name, config, section, extra, design_targets, bare, deepest in designs:
            depths = range(deepest + 1)
            if args.depths:
                depths = [int(d) for d in args.depths.split(",") if int(d) <= deepest]
            targets = [t for t in design_targets if not args.targets or t in args.targets.split(",")]
            for target in targets:
                for depth in depths:
                    if done(name, target, depth):
                        continue
                    _, path = with_pipeline(config, name, section, extra, depth, out / "configs")
                    flags = ["--bare"] if bare else []
                    add(run(args.accgen, name, path.relative_to(ROOT), target, flags, out, depth, args.reuse))
    else:
        targets = args.targets.split(",") if args.targets else TARGETS
        designs = [d for d in DESIGNS if not args.designs or d[0] in args.designs.split(",")]
        for name, config, flags, design_targets in designs:
            for target in targets:
                if design_targets and target not in design_targets:
                    continue
                if done(name, target, ""):
                    continue
                add(run(args.accgen, name, config, target, flags, out, reuse=args.reuse))
    write()
    print(markdown(rows, args.pipeline_sweep))


if __name__ == "__main__":
    main()
