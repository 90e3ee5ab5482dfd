#!/bin/bash
# xc7: default vs -nowidelut LUT counts (LUT1-6 + INV) on example designs
for ex in int8_4x4 e4m3fn_4x4_fp16 int8xfp4_lut uint4xint4_lut_8x8 custom_e3m3 hashgrid_tiny_2d snn_lava_loihi_64; do
  rm -rf g_$ex s.json; /work/main/target/release/accgen gen /work/main/examples/$ex.yaml -o g_$ex >/dev/null 2>&1 || { echo "$ex gen failed"; continue; }
  top=$(grep -l "^module" g_$ex/*.v | head -100 | xargs grep -h "^module" | awk '{print $2}' | tr -d '(' | tail -1)
  for opt in "" "-nowidelut"; do
    for nd in "" "-nodsp"; do
      nice -n 10 timeout 1200 yosys -q -p "read_verilog $(ls g_$ex/*.v | grep -v /tb_ | tr "\n" " "); hierarchy -check -auto-top; synth_xilinx -family xc7 -flatten -noiopad -noclkbuf $nd $opt; tee -q -o s.json stat -json" >/dev/null 2>&1
      n=$(python3 -c "import json;d=json.load(open('s.json'))['design']['num_cells_by_type'];print(sum(v for k,v in d.items() if k.startswith('LUT') or k=='INV'), d.get('MUXF7',0), d.get('LUT1',0))")
      echo "$ex nodsp=${nd:+1} nowidelut=${opt:+1} $n"
    done
  done
done
