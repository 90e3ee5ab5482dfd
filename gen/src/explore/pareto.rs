//! Pareto fronts over any number of objectives.

/// The indices of the non-dominated points, in input order. `points[i][k]`
/// is objective k of point i; `maximize[k]` says which way objective k is
/// better. A point is dominated when another is at least as good on every
/// objective and better on one. Points equal on every objective are all
/// kept. Quadratic, which is plenty for sweeps of thousands of points.
pub fn front(points: &[Vec<f64>], maximize: &[bool]) -> Vec<usize> {
    let better_or_equal = |a: f64, b: f64, max: bool| if max { a >= b } else { a <= b };
    let dominates = |a: &[f64], b: &[f64]| {
        let all = a
            .iter()
            .zip(b)
            .zip(maximize)
            .all(|((&x, &y), &m)| better_or_equal(x, y, m));
        all && a.iter().zip(b).any(|(x, y)| x != y)
    };
    (0..points.len())
        .filter(|&i| !points.iter().any(|q| dominates(q, &points[i])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::front;

    #[test]
    fn two_objectives_cost_and_quality() {
        // (cost, accuracy): lower cost and higher accuracy are better.
        let p = vec![
            vec![10.0, 0.90],
            vec![20.0, 0.95],
            vec![15.0, 0.89], // dominated by the first
            vec![30.0, 0.95], // dominated by the second
            vec![5.0, 0.50],
            vec![10.0, 0.90], // a tie with the first: kept
        ];
        assert_eq!(front(&p, &[false, true]), vec![0, 1, 4, 5]);
    }

    #[test]
    fn three_objectives() {
        let p = vec![
            vec![1.0, 5.0, 0.9],
            vec![5.0, 1.0, 0.9],
            vec![5.0, 5.0, 0.9],
            vec![5.0, 5.0, 0.95],
        ];
        assert_eq!(front(&p, &[false, false, true]), vec![0, 1, 3]);
    }

    #[test]
    fn empty_and_single() {
        assert!(front(&[], &[false, true]).is_empty());
        assert_eq!(front(&[vec![1.0, 1.0]], &[false, true]), vec![0]);
    }
}
