//! Plain lists of URLs, one per line, such as the OpenPhish feed.
//!
//! Feed: the OpenPhish <https://openphish.com/> community feed `feed.txt` (OpenPhish terms of
//! use), and any other list of the same shape.
//! Format: one `http://` or `https://` URL per line; blank lines and lines starting with `#`
//! are skipped. Like a plain IP list, the content does not say whose list it is, so the path
//! decides:
//!
//! | file | source name | provider | claim, threat | weight |
//! |---|---|---|---|---|
//! | in a folder whose name contains `openphish`, or named `openphish*` | `openphish` | openphish | malicious, phishing | 0.8 |
//! | anything else | `url-list/<file stem>` | the same | malicious, abuse | 0.5 |

use std::path::Path;

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::{file_stem, folder_names};
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{slug, url_subject};

const OPENPHISH_HOMEPAGE: &str = "https://openphish.com/";
const OPENPHISH_WEIGHT: f32 = 0.8;
const GENERIC_WEIGHT: f32 = 0.5;

pub(crate) fn matches(head: &Head) -> bool {
    let lines: Vec<&str> = head.data_lines(&['#']).take(200).collect();
    let urls = lines.iter().filter(|line| is_url_line(line)).count();
    !lines.is_empty() && urls * 10 >= lines.len() * 9
}

fn is_url_line(line: &str) -> bool {
    let lower = line.get(..8).unwrap_or(line).to_ascii_lowercase();
    let http = lower.starts_with("http://") || lower.starts_with("https://");
    http && !line.contains(char::is_whitespace) && url_subject(line).is_ok()
}

fn is_openphish(path: &Path) -> bool {
    let in_folder = folder_names(path)
        .iter()
        .any(|folder| folder.contains("openphish"));
    in_folder
        || file_stem(path)
            .to_ascii_lowercase()
            .starts_with("openphish")
}

pub(crate) fn source(path: &Path) -> SourceInfo {
    if is_openphish(path) {
        return SourceInfo::new(
            "openphish",
            "openphish",
            "OpenPhish phishing URLs",
            Some(OPENPHISH_HOMEPAGE),
        );
    }
    let name = format!("url-list/{}", slug(file_stem(path)));
    let title = format!("URL list {}", file_stem(path));
    SourceInfo::new(name.clone(), name, title, None)
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let (threat, weight) = match is_openphish(&file.path) {
        true => (ThreatType::Phishing, OPENPHISH_WEIGHT),
        false => (ThreatType::Abuse, GENERIC_WEIGHT),
    };
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        match url_subject(line) {
            Ok(subject) => {
                let sighting = Sighting::new(subject, ClaimKind::Malicious, threat, weight);
                out.sighting(number, sighting)
            }
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}
