//! The shared real-peer vectors (`shared/vectors/*.json`): loading them and
//! comparing a codec's facts with their `expect` objects.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{FactValue, Facts};

/// One vector: a frame some third-party library produced, and its facts.
#[derive(Debug, Clone)]
pub struct Vector {
    /// The vector's name (the file stem).
    pub id: String,
    /// The frame bytes.
    pub frame: Vec<u8>,
    /// The facts the frame must decode to (`null` means "reported as absent").
    pub expect: serde_json::Map<String, Value>,
}

/// The vectors directory: `$XPROTOCOL_VECTORS`, else `shared/vectors` beside the
/// workspace that contains `manifest_dir`.
///
/// # Panics
/// When the directory does not exist: conformance tests must fail, not skip.
pub fn vectors_dir(manifest_dir: &str) -> PathBuf {
    let dir = std::env::var_os("XPROTOCOL_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(manifest_dir)
                .ancestors()
                .map(|a| a.join("../shared/vectors"))
                .find(|p| p.is_dir())
                .unwrap_or_else(|| PathBuf::from("../shared/vectors"))
        });
    assert!(
        dir.is_dir(),
        "shared vectors not found at {} (set XPROTOCOL_VECTORS)",
        dir.display()
    );
    dir
}

/// Every vector whose file name starts with `prefix` (e.g. `"bolt-"`), sorted by name.
///
/// # Panics
/// On an unreadable or malformed vector file, or when none match.
pub fn load(manifest_dir: &str, prefix: &str) -> Vec<Vector> {
    let dir = vectors_dir(manifest_dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no {prefix}* vectors in {}",
        dir.display()
    );
    paths.iter().map(|p| parse(p)).collect()
}

fn parse(path: &Path) -> Vector {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hex = json["frame_hex"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no frame_hex", path.display()));
    let frame = decode_hex(hex).unwrap_or_else(|| panic!("{}: bad frame_hex", path.display()));
    if let Some(len) = json["frame_length"].as_u64() {
        assert_eq!(frame.len() as u64, len, "{}: frame_length", path.display());
    }
    Vector {
        id: json["id"].as_str().unwrap_or_default().to_owned(),
        frame,
        expect: json["expect"].as_object().cloned().unwrap_or_default(),
    }
}

/// Encode bytes as lower-case hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A short hex view of a frame for failure messages (the whole frame when small).
pub fn hex_view(frame: &[u8]) -> String {
    if frame.len() <= 512 {
        encode_hex(frame)
    } else {
        format!("{}…({} bytes)", encode_hex(&frame[..256]), frame.len())
    }
}

/// Decode a hex string (upper or lower case).
pub fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.as_bytes();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

/// The keys of `expect` whose value differs from the facts (a missing fact
/// counts as `null`), as `(key, expected, actual)`, skipping `skip` keys.
pub fn mismatches(
    facts: &Facts,
    expect: &serde_json::Map<String, Value>,
    skip: &[&str],
) -> Vec<(String, Value, Value)> {
    expect
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .filter_map(|(key, want)| {
            let got = facts.get(key).map_or(Value::Null, FactValue::to_json);
            (got != *want).then(|| (key.clone(), want.clone(), got))
        })
        .collect()
}

/// Every vector decodes to exactly its `expect` facts (a missing fact counts
/// as `null`); panics listing every mismatch of every vector.
///
/// # Panics
/// When a frame's facts cannot be read or differ from the vector's.
pub fn check_facts(codec: &dyn crate::Codec, vectors: &[Vector]) {
    let mut failures = Vec::new();
    for v in vectors {
        match codec.facts(&bytes::Bytes::copy_from_slice(&v.frame)) {
            Ok(facts) => {
                for (key, want, got) in mismatches(&facts, &v.expect, &[]) {
                    failures.push(format!("{}: {key}: expected {want}, got {got}", v.id));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", v.id)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
