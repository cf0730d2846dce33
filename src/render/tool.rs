//! Running a rendering tool found on the PATH, with a time limit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one rendering may take; remote bases that hang on the network are given up.
const TIME_LIMIT: Duration = Duration::from_secs(120);

/// The first executable named `name` in the PATH.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            let plain = dir.join(name);
            let exe = dir.join(format!("{name}.exe"));
            [plain, exe]
        })
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs `program args…` and returns its standard output, or why it failed (the last line
/// of its error output).
pub fn run(program: &Path, args: &[String], dir: Option<&Path>) -> Result<Vec<u8>, String> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut bytes);
        }
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut bytes);
        }
        bytes
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "gave up after {} s (remote bases or charts need the network)",
                    TIME_LIMIT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for {}: {e}", program.display())),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        let text = String::from_utf8_lossy(&stderr);
        let last = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map_or("no error output", without_log_header);
        Err(format!(
            "exit status {}: {last}",
            status.code().unwrap_or(-1)
        ))
    }
}

/// A line of a Kubernetes tool's log without its header (`E1205 03:56:27.073715   11098
/// run.go:72] `): the time and process id would make two reports of one scan differ.
fn without_log_header(line: &str) -> &str {
    static HEADER: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [^ \]]+:\d+\] ").ok()
    });
    match HEADER.as_ref().and_then(|h| h.find(line)) {
        Some(header) => &line[header.end()..],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::without_log_header;

    #[test]
    fn a_log_header_is_left_out_and_other_lines_are_kept() {
        assert_eq!(
            without_log_header(
                "E1205 03:56:27.073715   11098 run.go:72] \"command failed\" err=\"no matches\""
            ),
            "\"command failed\" err=\"no matches\""
        );
        assert_eq!(
            without_log_header("error: accumulating resources: not found"),
            "error: accumulating resources: not found"
        );
        assert_eq!(
            without_log_header("E1205 is not a header"),
            "E1205 is not a header"
        );
    }
}
