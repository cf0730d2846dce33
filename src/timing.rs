//! Where a scan's time goes: with `SOVSCAN_TIMINGS=1` in the environment, each phase prints its
//! wall time and the resident memory on stderr when it ends (`sovscan: load 412.3 ms (resident
//! 80 MB, peak 95 MB)`). Nothing is measured otherwise.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("SOVSCAN_TIMINGS").is_some_and(|v| v != "0"))
}

/// A phase under way; its time is printed when it is dropped.
#[must_use = "a phase is timed until it is dropped"]
pub struct Phase {
    name: &'static str,
    started: Option<Instant>,
}

/// Starts timing `name`.
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        started: enabled().then(Instant::now),
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            eprintln!("sovscan: {} {ms:.1} ms{}", self.name, memory());
        }
    }
}

/// The resident memory now and at its peak, where the system tells it (Linux).
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(now), Some(peak)) => format!(" (resident {now}, peak {peak})"),
        _ => String::new(),
    }
}
