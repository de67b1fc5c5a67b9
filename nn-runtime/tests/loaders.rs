//! The digits CSV loader accepts only what the dataset can hold: 64 pixels
//! in 0..=16 and a whole-number label in 0..=9; anything else is an error
//! naming the file and the line.

mod common;

use nn_runtime::io::datasets;
use nn_runtime::NnError;

fn row(pixel: &str, label: &str) -> String {
    let mut values = vec!["3"; 64];
    values[10] = pixel;
    format!("{},{label}", values.join(","))
}

fn load(name: &str, text: &str) -> Result<datasets::LabelledImages, NnError> {
    let path = common::TempPath::new("digits", name);
    std::fs::write(&path, text).unwrap();
    datasets::digits(&path)
}

#[test]
fn digits_rejects_labels_that_are_not_classes() {
    for (i, label) in ["-1", "3.7", "NaN", "1e30", "10", "inf", "x"].iter().enumerate() {
        let name = format!("labels{i}.csv");
        let text = format!("{}\n{}\n", row("0", "1"), row("0", label));
        let err = load(&name, &text).unwrap_err();
        assert!(
            matches!(err, NnError::InvalidFile { line: Some(2), .. }),
            "{label}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&name), "{message}");
        assert!(
            message.contains(&format!("line 2: label `{label}` is not a class")),
            "{message}"
        );
    }
}

#[test]
fn digits_rejects_pixels_that_are_not_finite_or_out_of_range() {
    for (i, pixel) in ["NaN", "inf", "-inf", "-1", "17", "1e30"].iter().enumerate() {
        let name = format!("pixels{i}.csv");
        let text = format!("{}\n\n{}\n", row("0", "1"), row(pixel, "2"));
        let err = load(&name, &text).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&name), "{message}");
        assert!(
            message.contains("line 3: pixel 11 is") && message.contains("expected a value in 0..=16"),
            "{pixel}: {message}"
        );
    }
    let err = load("word.csv", &row("dark", "1")).unwrap_err();
    assert!(err.to_string().contains("line 1: pixel 11 `dark`"), "{err}");
}

#[test]
fn digits_reads_valid_rows() {
    let data = load("ok.csv", &format!("{}\n{}\n", row("16", "9"), row("0", "0.0"))).unwrap();
    assert_eq!(data.labels, vec![9, 0]);
    assert_eq!(data.images.dim(), (2, 8, 8, 1));
    assert_eq!(data.images[[0, 1, 2, 0]], 1.0);
    assert_eq!(data.images[[1, 0, 0, 0]], 3.0 / 16.0);
}
