#!/bin/bash
# Stand-alone xc7 LUT counts of the float decoders and rounders, -nowidelut
tail -n +2 /work/main/reports/calibration/hashgrid_float_xc7.csv | while IFS=, read mod kind sb eb sub tr luts; do
  v=$(ls /tmp/hgv/*/$mod.v 2>/dev/null | head -1)
  [ -z "$v" ] && { echo "$mod MISSING"; continue; }
  for opt in "" " -nowidelut"; do
    yosys -q -p "read_verilog $v; hierarchy -check -top $mod; synth_xilinx -family xc7 -flatten -noiopad -noclkbuf$opt -top $mod; tee -q -o $mod.json stat -json" >/dev/null 2>&1
    n=$(python3 -c "import json;d=json.load(open('$mod.json'))['design']['num_cells_by_type'];print(sum(v for k,v in d.items() if k.startswith('LUT') or k=='INV'))")
    echo "$mod,$opt,$luts,$n"
  done
done
