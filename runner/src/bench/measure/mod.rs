//! The measurements, one file per section. Each writes `(figure, value)` samples and notes into an
//! [`Out`]; a measurement that fails part-way keeps what it already measured and returns the error.

pub mod cli;
pub mod full_run;
pub mod knee;
pub mod reload;
pub mod scale;
pub mod throughput;
pub mod wrk;

/// What one step measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Out {
    /// Samples, in measurement order.
    pub values: Vec<(&'static str, f64)>,
    /// Facts worth keeping next to the figures (counts, exit codes, leftovers).
    pub notes: Vec<String>,
}

impl Out {
    /// Records one sample.
    pub fn push(&mut self, figure: &'static str, value: f64) {
        self.values.push((figure, value));
    }

    /// Records a note.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }
}
