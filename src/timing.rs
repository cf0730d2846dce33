//! Where a scan's time goes: with `SOVSCAN_TIMINGS=1` in the environment, each phase prints its
//! wall time, the processor time of all its threads, and the resident memory on stderr when it
//! ends (`sovscan: load 412.3 ms, cpu 790 ms (resident 80 MB, peak 95 MB)`). Nothing is
//! measured otherwise.

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
    started: Option<(Instant, Option<f64>)>,
}

/// Starts timing `name`.
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        started: enabled().then(|| (Instant::now(), cpu_ms())),
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some((started, cpu)) = self.started {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let cpu = match (cpu, cpu_ms()) {
                (Some(before), Some(now)) => format!(", cpu {:.0} ms", now - before),
                _ => String::new(),
            };
            eprintln!("sovscan: {} {ms:.1} ms{cpu}{}", self.name, memory());
        }
    }
}

/// The processor time the process has spent, user and system, over all its threads, where
/// the system tells it (Linux: `/proc/self/stat`, in ticks of 10 ms).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
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
