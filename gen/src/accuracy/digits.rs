//! The digits data set: 1,797 real 8x8 handwritten digits (UCI "Optical
//! Recognition of Handwritten Digits", CC BY 4.0; see
//! `data/digits/README.md` for the attribution), embedded in the binary so
//! `accgen accuracy` works from any directory.

use flate2::read::GzDecoder;
use std::io::Read;

/// `data/digits/digits.csv.gz`: 65 integers a row, 64 pixels (0..16,
/// row-major) and the label (0..9) last.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../data/digits/digits.csv.gz");

/// Pixels per image.
pub const FEATURES: usize = 64;
/// Digit classes.
pub const CLASSES: usize = 10;
/// Largest pixel value; features are divided by it.
const PIXEL_MAX: u32 = 16;
/// Every `TEST_EVERY`-th sample of each class (by file order) is a test sample.
pub const TEST_EVERY: usize = 5;

/// Images with their labels; features are normalised to 0..=1.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len() * FEATURES` values, image after image.
    pub features: Vec<f64>,
    pub labels: Vec<u8>,
    /// Row of each image in `digits.csv.gz` (0-based), for traceability.
    pub rows: Vec<usize>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features of image `i`.
    pub fn image(&self, i: usize) -> &[f64] {
        &self.features[i * FEATURES..(i + 1) * FEATURES]
    }

    fn push(&mut self, other: &Dataset, i: usize) {
        self.features.extend_from_slice(other.image(i));
        self.labels.push(other.labels[i]);
        self.rows.push(other.rows[i]);
    }

    fn empty() -> Dataset {
        Dataset {
            features: Vec::new(),
            labels: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// The train and test sets.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

/// The whole data set, decompressed and checked (a corrupt embedded file is
/// a build defect, reported as an error rather than a panic).
pub fn load() -> Result<Dataset, String> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .map_err(|e| format!("error: the embedded digits.csv.gz cannot be read: {e}"))?;
    parse(&text)
}

fn parse(text: &str) -> Result<Dataset, String> {
    let mut set = Dataset::empty();
    for (row, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("error: digits.csv.gz line {}: {what}", row + 1);
        let values: Vec<u32> = line
            .split(',')
            .map(|v| v.trim().parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(&format!("not a list of integers ({e})")))?;
        if values.len() != FEATURES + 1 {
            return Err(bad(&format!("{} values, expected {}", values.len(), FEATURES + 1)));
        }
        let (pixels, label) = values.split_at(FEATURES);
        if let Some(p) = pixels.iter().find(|&&p| p > PIXEL_MAX) {
            return Err(bad(&format!("pixel {p} is beyond 0..={PIXEL_MAX}")));
        }
        if label[0] as usize >= CLASSES {
            return Err(bad(&format!("label {} is beyond 0..={}", label[0], CLASSES - 1)));
        }
        set.features.extend(pixels.iter().map(|&p| p as f64 / PIXEL_MAX as f64));
        set.labels.push(label[0] as u8);
        set.rows.push(row);
    }
    if set.is_empty() {
        return Err("error: the embedded digits.csv.gz holds no samples".into());
    }
    Ok(set)
}

/// A deterministic, stratified 80/20 split without a random generator: the
/// 5th, 10th, 15th, ... sample of each class (in file order) goes to test.
/// Every class keeps its share in both sets, and the split never depends on
/// the training seed, so accuracies of different seeds are comparable.
pub fn split(all: &Dataset) -> Split {
    let mut seen = [0usize; CLASSES];
    let (mut train, mut test) = (Dataset::empty(), Dataset::empty());
    for i in 0..all.len() {
        let class = all.labels[i] as usize;
        seen[class] += 1;
        if seen[class].is_multiple_of(TEST_EVERY) {
            test.push(all, i);
        } else {
            train.push(all, i);
        }
    }
    Split { train, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_set_is_complete_and_splits_by_class() {
        let all = load().unwrap();
        assert_eq!(all.len(), 1797);
        let s = split(&all);
        assert_eq!(s.train.len() + s.test.len(), 1797);
        for class in 0..CLASSES as u8 {
            let n = all.labels.iter().filter(|&&l| l == class).count();
            let t = s.test.labels.iter().filter(|&&l| l == class).count();
            assert_eq!(t, n / TEST_EVERY, "class {class}");
        }
    }

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let e = parse("1,2,3").unwrap_err();
        assert!(e.contains("line 1") && e.contains("3 values"), "{e}");
        let row = format!("{}17,0", "0,".repeat(63));
        assert!(parse(&row).unwrap_err().contains("pixel 17"));
    }
}
