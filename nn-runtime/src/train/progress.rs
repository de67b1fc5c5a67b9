//! Keras-style progress display: a bar redrawn in place on a terminal, one
//! line per epoch otherwise (logs, CI), nothing when quiet.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::train::history::Logs;

/// How much `fit` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    Quiet,
    /// A progress bar on a terminal; one line per epoch when output is piped.
    #[default]
    ProgressBar,
    /// One line per epoch.
    OneLine,
}

pub(crate) struct Progress {
    verbosity: Verbosity,
    interactive: bool,
    steps: usize,
    started: Instant,
    last_draw: Instant,
}

const BAR: usize = 30;

impl Progress {
    pub fn new(verbosity: Verbosity) -> Self {
        let interactive = verbosity == Verbosity::ProgressBar && std::io::stdout().is_terminal();
        Self {
            verbosity,
            interactive,
            steps: 0,
            started: Instant::now(),
            last_draw: Instant::now(),
        }
    }

    pub fn epoch_start(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.steps = steps;
        self.started = Instant::now();
        if self.verbosity != Verbosity::Quiet {
            println!("Epoch {}/{epochs}", epoch + 1);
        }
    }

    fn bar(&self, done: usize) -> String {
        let filled = (done * BAR).checked_div(self.steps).unwrap_or(BAR);
        let mut bar = "=".repeat(filled);
        if filled < BAR {
            bar.push('>');
            bar.push_str(&".".repeat(BAR - filled - 1));
        }
        let width = self.steps.to_string().len();
        format!("{done:>width$}/{} [{bar}]", self.steps)
    }

    /// Redraws the bar at most every 100 ms; `running` computes the logs
    /// only then, so steps that do not redraw allocate nothing.
    pub fn step(&mut self, done: usize, running: impl FnOnce() -> Logs) {
        if !self.interactive || self.last_draw.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last_draw = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64();
        let eta = elapsed / done.max(1) as f64 * (self.steps - done) as f64;
        print!("\r{} - ETA: {:.0}s - {}", self.bar(done), eta, running().line());
        let _ = std::io::stdout().flush();
    }

    pub fn epoch_end(&mut self, logs: &Logs) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let elapsed = self.started.elapsed();
        let per_step = elapsed.as_secs_f64() / self.steps.max(1) as f64;
        let timing = format!("{:.0}s {:.0}ms/step", elapsed.as_secs_f64(), per_step * 1e3);
        // On a terminal, clear the running bar before the final line.
        let prefix = if self.interactive { "\r\x1b[2K" } else { "" };
        println!("{prefix}{} - {timing} - {}", self.bar(self.steps), logs.line());
    }
}
