//! Gzip-compressed inputs, as AWS Config delivers snapshots and history files to S3.
//! The decompressed size is capped like a plain file's, so a small bomb cannot fill memory.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Decompresses a gzip stream (several members are joined, as `cat a.gz b.gz` produces).
pub fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("invalid gzip data: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "decompressed content is above the {limit}-byte limit \
             (--max-file-bytes, limits.file_bytes; --max-total-bytes, limits.total_bytes)"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn round_trip_and_limit() {
        let packed = gzip(b"{\"configurationItems\": []}");
        assert_eq!(
            gunzip(&packed, 1024).unwrap(),
            b"{\"configurationItems\": []}"
        );
        assert!(
            gunzip(&gzip(&[b' '; 4096]), 100)
                .unwrap_err()
                .contains("limit")
        );
        assert!(gunzip(b"not gzip", 1024).is_err());
    }
}
