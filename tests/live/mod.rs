//! Helpers shared by the live-source tests: the binary, a tiny recorded-answer HTTP server on
//! 127.0.0.1, and findings without the parts that name where they were read.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves answers from `answer(request) -> (status, body)` until the test ends; returns the
/// port and the log of requests.
pub fn serve(
    answer: impl Fn(&Request) -> (u16, String) + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let target = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let length = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let request = Request {
                method,
                target,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            let (status, text) = answer(&request);
            seen.lock().unwrap().push(request);
            let reason = match status {
                200 => "OK",
                400 => "Bad Request",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "Not Found",
                _ => "Other",
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.flush();
        }
    });
    (port, log)
}

/// Findings keyed by the file name their input would have (`--save`), without the parts that
/// depend on where the object was read from.
pub fn comparable(report: &Value, to_name: impl Fn(&str) -> String) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            let path = f["location"]["path"].as_str().unwrap().to_string();
            let map = f.as_object_mut().unwrap();
            map.remove("fingerprint");
            map["location"].as_object_mut().unwrap().remove("path");
            (to_name(&path), f)
        })
        .collect();
    out.sort_by_key(|(name, f)| (name.clone(), f.to_string()));
    out
}

/// The file name `--save` gives an address (`sovscan::live::file_name`).
pub fn saved_name(address: &str) -> String {
    let tail = address.split_once("://").map_or(address, |(_, t)| t);
    let mut name: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.push_str(".json");
    name
}

pub fn base_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}
