//! The progress of a long command (an import, a first start): a bar on a
//! terminal, plain log lines otherwise (a service's log, a pipe, a test).

use indicatif::{ProgressBar, ProgressStyle};

/// How far a long piece of work has gone, out of a known total.
pub struct Progress {
    bar: ProgressBar,
    what: &'static str,
    total: u64,
}

impl Progress {
    /// Work on `total` items, named `what` in the log.
    pub fn new(what: &'static str, total: u64) -> Self {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(what);
        Progress { bar, what, total }
    }

    /// `done` items are done, the last of them `stage`.
    pub fn at(&self, done: u64, stage: &str) {
        if self.bar.is_hidden() {
            tracing::info!(done, total = self.total, stage, "{}", self.what);
        } else {
            self.bar.set_position(done);
            self.bar.set_message(stage.to_owned());
        }
    }

    /// The work is over.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
