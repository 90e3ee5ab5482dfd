//! The spiking digits classifier: accuracy through the bit-exact model, and
//! 50 test images through the generated two-layer core in Verilator with
//! identical spikes at every step and the same class.

mod common;

use accgen::accuracy::snn::{self, Budget};
use accgen_hdl::spiking;
use accgen_hdl::spiking::vectors::{ChainVectors, Traffic};
use common::*;

#[test]
fn converted_network_classifies_digits() {
    let Ok(p) = snn::prepare(1) else {
        panic!("the digits data cannot be read")
    };
    let test = &p.split.test;
    let acc = |steps, weight_bits, membrane_bits| {
        let b = Budget {
            steps,
            weight_bits,
            membrane_bits,
        };
        let net = snn::convert(&p.net, p.lambdas, b).expect("convertible");
        let (correct, ops) = net.evaluate(test);
        (correct as f64 / test.len() as f64, ops)
    };
    let (good, ops) = acc(32, 8, 16);
    assert!(good > 0.93, "T = 32, 8-bit weights, 16-bit membranes: {good}");
    assert!(good <= p.float_accuracy + 0.01);
    assert!(ops > 1000.0, "{ops} synaptic ops per inference");
    // Fewer time steps carry fewer bits of activation.
    let (short, short_ops) = acc(4, 8, 16);
    assert!(short < good && short_ops < ops, "T = 4: {short}, {short_ops}");
}

#[test]
fn fifty_images_through_the_two_layer_core() {
    let Ok(p) = snn::prepare(1) else {
        panic!("the digits data cannot be read")
    };
    let steps = 16;
    let net = snn::convert(
        &p.net,
        p.lambdas,
        Budget {
            steps,
            weight_bits: 8,
            membrane_bits: 16,
        },
    )
    .expect("convertible");
    // Several units per layer: 33 hidden neurons on 3 units, 10 outputs on 2.
    let (mut l1, mut l2) = (net.layer1.clone(), net.layer2.clone());
    l1.p.units = 3;
    l2.p.units = 2;
    let design = spiking::chain_design(&l1.p, &l2.p, &prov()).expect("chainable");
    let test = &p.split.test;
    let images: Vec<usize> = (0..50).collect();
    let expected: Vec<snn::Inference> = images.iter().map(|&i| net.infer(test.image(i))).collect();
    let scripts: Vec<Vec<_>> = images
        .iter()
        .map(|&i| snn::encode(test.image(i), steps, net.bias_repeats))
        .collect();
    // Bursty traffic (random input gaps, output back-pressure) and full rate
    // (the figure for cycles per inference).
    for (traffic, seed) in [(Traffic::BURSTY, 4), (Traffic::FULL, 5)] {
        let logs = std::cell::RefCell::new(None);
        let report = check(&design, || {
            let v = ChainVectors::with_resets(&design, l1.clone(), l2.clone(), scripts.clone(), traffic, seed);
            *logs.borrow_mut() = Some(v.logs());
            v
        });
        let (a, b) = logs.take().expect("logs");
        let (a, b) = (a.borrow(), b.borrow());
        assert_eq!(b.len(), 50 * steps as usize, "every step of every image compared");
        let mut correct = 0;
        for (k, e) in expected.iter().enumerate() {
            let range = k * steps as usize..(k + 1) * steps as usize;
            assert_eq!(&a[range.clone()], &e.layer1[..], "image {k}: layer-1 spikes");
            assert_eq!(&b[range.clone()], &e.layer2[..], "image {k}: layer-2 spikes");
            assert_eq!(snn::decide(&b[range]), e.class, "image {k}: class");
            correct += (e.class == test.labels[images[k]] as usize) as usize;
        }
        let spikes: usize = a.iter().chain(b.iter()).map(Vec::len).sum();
        eprintln!(
            "{} ({traffic:?}): 50 images, {} cycles ({} per inference), {} values compared, {spikes} spikes, {correct}/50 correct",
            design.top,
            report.cycles,
            report.cycles / 50,
            report.compared
        );
        assert!(correct >= 40, "{correct}/50 correct");
    }
}
