//! Non-negative least squares (Lawson and Hanson's active-set method): the
//! cost model's coefficients are fitted so that no structure makes a
//! design cheaper, which keeps extrapolation to unseen shapes sane.

/// Solve `min ||A x - b||` subject to `x >= 0`; `a` holds the rows of A.
pub fn nnls(a: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = a.first().map(|r| r.len()).unwrap_or(0);
    let mut x = vec![0.0; n];
    let mut passive = vec![false; n];
    let tol = 1e-10;
    for _ in 0..(3 * n + 10) {
        let w = gradient(a, b, &x);
        // The most promising variable still held at zero.
        let Some((j, &wj)) = w
            .iter()
            .enumerate()
            .filter(|(j, _)| !passive[*j])
            .max_by(|p, q| p.1.total_cmp(q.1))
        else {
            break;
        };
        if wj <= tol {
            break;
        }
        passive[j] = true;
        loop {
            let z = solve_passive(a, b, &passive);
            if passive.iter().zip(&z).all(|(&p, &zi)| !p || zi > tol) {
                x = z;
                break;
            }
            // Step back along x -> z until a passive variable hits zero.
            let mut alpha = 1.0f64;
            for i in 0..n {
                if passive[i] && z[i] <= tol {
                    alpha = alpha.min(x[i] / (x[i] - z[i]).max(f64::MIN_POSITIVE));
                }
            }
            for i in 0..n {
                x[i] += alpha * (z[i] - x[i]);
                if passive[i] && x[i] <= tol {
                    passive[i] = false;
                    x[i] = 0.0;
                }
            }
        }
    }
    x
}

/// `A^T (b - A x)`.
fn gradient(a: &[Vec<f64>], b: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut g = vec![0.0; n];
    for (row, &bi) in a.iter().zip(b) {
        let r = bi - row.iter().zip(x).map(|(p, q)| p * q).sum::<f64>();
        for j in 0..n {
            g[j] += row[j] * r;
        }
    }
    g
}

/// Least squares on the passive columns only (the others are zero).
fn solve_passive(a: &[Vec<f64>], b: &[f64], passive: &[bool]) -> Vec<f64> {
    let cols: Vec<usize> = (0..passive.len()).filter(|&j| passive[j]).collect();
    let m = cols.len();
    // Normal equations, with a tiny ridge so collinear features stay solvable.
    let mut ata = vec![vec![0.0; m + 1]; m];
    for (row, &bi) in a.iter().zip(b) {
        for (p, &i) in cols.iter().enumerate() {
            for (q, &j) in cols.iter().enumerate() {
                ata[p][q] += row[i] * row[j];
            }
            ata[p][m] += row[i] * bi;
        }
    }
    for (p, r) in ata.iter_mut().enumerate() {
        r[p] += 1e-9 * (1.0 + r[p].abs());
    }
    let sol = gauss(ata);
    let mut z = vec![0.0; passive.len()];
    for (p, &i) in cols.iter().enumerate() {
        z[i] = sol[p];
    }
    z
}

/// Gaussian elimination with partial pivoting on an augmented matrix.
fn gauss(mut m: Vec<Vec<f64>>) -> Vec<f64> {
    let n = m.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))
            .unwrap_or(col);
        m.swap(col, pivot);
        let d = m[col][col];
        if d.abs() < 1e-300 {
            continue;
        }
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / d;
                for (x, p) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    (0..n)
        .map(|i| if m[i][i].abs() < 1e-300 { 0.0 } else { m[i][n] / m[i][i] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_non_negative_coefficients() {
        // b = 2*x0 + 0*x1 + 5*x2 exactly.
        let a: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64, (i * i % 7) as f64, 1.0]).collect();
        let b: Vec<f64> = a.iter().map(|r| 2.0 * r[0] + 5.0 * r[2]).collect();
        let x = nnls(&a, &b);
        assert!(
            (x[0] - 2.0).abs() < 1e-6 && x[1].abs() < 1e-6 && (x[2] - 5.0).abs() < 1e-6,
            "{x:?}"
        );
    }

    #[test]
    fn clamps_what_would_be_negative() {
        // The unconstrained fit wants a negative weight on x1.
        let a: Vec<Vec<f64>> = (0..10).map(|i| vec![1.0, i as f64]).collect();
        let b: Vec<f64> = (0..10).map(|i| 10.0 - i as f64).collect();
        let x = nnls(&a, &b);
        assert!(x.iter().all(|&v| v >= 0.0), "{x:?}");
        assert!((x[0] - 5.5).abs() < 1e-6, "{x:?}");
    }
}
