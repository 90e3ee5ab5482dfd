# Digilent Arty A7-35T / A7-100T (xc7a35ticsg324-1L / xc7a100tcsg324-1): pins of accgen's UART board wrapper.
# The FT2232HQ's UART; names are from the FPGA's side.
set_property -dict { PACKAGE_PIN E3  IOSTANDARD LVCMOS33 } [get_ports { clk_i }];      # CLK100MHZ
set_property -dict { PACKAGE_PIN A9  IOSTANDARD LVCMOS33 } [get_ports { uart_rx_i }];  # uart_txd_in: FTDI -> FPGA
set_property -dict { PACKAGE_PIN D10 IOSTANDARD LVCMOS33 } [get_ports { uart_tx_o }];  # uart_rxd_out: FPGA -> FTDI
set_property -dict { PACKAGE_PIN H5  IOSTANDARD LVCMOS33 } [get_ports { led_o }];      # LD4 (toggles per tile)
create_clock -name clk_i -period 10.000 [get_ports { clk_i }];
