//! A progress bar on standard error for long runs: only when standard error is a terminal and
//! not in CI, so logs and pipes never see it.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use konform::Progress;

/// A running progress bar; [`Bar::finish`] clears it.
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bar {
    /// Starts drawing `progress` after a second (short runs never show a bar), if standard
    /// error is a terminal and CI is not set; `None` otherwise.
    pub fn start(progress: &Arc<Progress>) -> Option<Self> {
        if !std::io::stderr().is_terminal() || super::check::in_ci() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (Arc::clone(progress), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut ticks = 0u32;
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                ticks += 1;
                if ticks < 10 {
                    continue;
                }
                let total = p.total.load(Ordering::Relaxed);
                let done = p.done.load(Ordering::Relaxed).min(total);
                let line = if total == 0 {
                    "konform: reading inputs …".to_owned()
                } else {
                    let width = 30;
                    let filled = done * width / total.max(1);
                    format!(
                        "konform: checking [{}{}] {done}/{total} records",
                        "#".repeat(filled),
                        " ".repeat(width - filled)
                    )
                };
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r{line}\x1b[K");
                let _ = err.flush();
            }
            if ticks >= 10 {
                let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
            }
        });
        Some(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops drawing and clears the line.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
