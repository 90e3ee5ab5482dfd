//! Test vectors for spiking designs.
