#!/usr/bin/env bash
# Install the EDA tools accgen's tests and commands use, from the
# distribution's packages: Verilator (co-simulation), Icarus Verilog (the
# generated test benches), Yosys (lint and synthesis) and the OSU 0.18 um
# standard cells (qflow-tech-osu018: the liberty file of `accgen synth
# --target asic`).
# As root it installs what is missing; otherwise it prints the command.
set -euo pipefail

missing=()
for tool in verilator:verilator iverilog:iverilog yosys:yosys; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
[ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || missing+=(qflow-tech-osu018)
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  $cmd >/dev/null
else
  echo "missing: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
