//! C2SP tlog-tiles paths: which tile a URL names, and the URL of a tile.
//!
//! A tile is named `tile/<L>/<N>[.p/<W>]` (hashes) or `tile/entries/<N>[.p/<W>]` (entry
//! bundles). `<N>` is written in zero-padded 3-digit groups, all but the last prefixed with `x`
//! (`1234067` is `x001/x234/067`), so that tiles can be stored as files without a name also being
//! a folder. A full tile is 256 wide and has no `.p/` suffix; a partial one is 1 to 255 wide.
//! The parser accepts exactly one spelling per tile, so caches never hold a tile twice.
//!
//! Spec: <https://c2sp.org/tlog-tiles>.

/// Hashes (or entries) in a full tile.
pub const FULL_WIDTH: u64 = 256;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Merkle tree hashes at tile level `L`, i.e. tree level `8·L`.
    Hashes {
        /// The tile level, 0 to 63.
        level: u8,
    },
    /// An entry bundle: big-endian uint16 length-prefixed entries.
    Entries,
}

/// A tile named by a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    /// Hashes or entries.
    pub kind: TileKind,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes or entries: 256 for a full tile.
    pub width: u64,
}

impl TileId {
    /// Parses the part of a tile URL after `tile/`, e.g. `0/x001/234.p/17` or `entries/005`.
    pub fn parse(path: &str) -> Option<TileId> {
        let (kind, rest) = path.split_once('/')?;
        let kind = match kind {
            "entries" => TileKind::Entries,
            level => {
                let level: u8 = parse_decimal(level)?.try_into().ok()?;
                if level > 63 {
                    return None;
                }
                TileKind::Hashes { level }
            }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index_part, width)) => {
                let width = parse_decimal(width)?;
                if !(1..FULL_WIDTH).contains(&width) {
                    return None;
                }
                (index_part, width)
            }
            None => (rest, FULL_WIDTH),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let (last, leading) = groups.split_last()?;
        let mut index: u64 = 0;
        for (i, group) in leading
            .iter()
            .map(|g| g.strip_prefix('x'))
            .chain([Some(*last)])
            .enumerate()
        {
            let group = group?;
            if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // No leading all-zero groups: index 5 is `005`, never `x000/005`.
            if i == 0 && group == "000" && !leading.is_empty() {
                return None;
            }
            index = index
                .checked_mul(1000)?
                .checked_add(group.parse::<u64>().ok()?)?;
        }
        Some(TileId { kind, index, width })
    }

    /// The path of this tile after `tile/`.
    pub fn path(&self) -> String {
        let kind = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let mut index = String::new();
        for (i, group) in groups.iter().rev().enumerate() {
            if i + 1 < groups.len() {
                index.push_str(&format!("x{group:03}/"));
            } else {
                index.push_str(&format!("{group:03}"));
            }
        }
        if self.width == FULL_WIDTH {
            format!("{kind}/{index}")
        } else {
            format!("{kind}/{index}.p/{}", self.width)
        }
    }
}

/// A decimal with no leading zeroes (except `0` itself).
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

/// Encodes entries as a C2SP entry bundle: each entry prefixed by its length as a big-endian
/// uint16. Returns `None` if an entry is longer than 65,535 bytes.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for entry in entries {
        let len = u16::try_from(entry.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Some(out)
}

/// Splits an entry bundle back into entries; `None` if it is truncated.
pub fn split_entry_bundle(mut bundle: &[u8]) -> Option<Vec<&[u8]>> {
    let mut entries = Vec::new();
    while !bundle.is_empty() {
        let (len, rest) = bundle.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return None;
        }
        entries.push(&rest[..len]);
        bundle = &rest[len..];
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_index_is_written_in_x_groups() {
        let tile = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: 1_234_067,
            width: 256,
        };
        assert_eq!(tile.path(), "0/x001/x234/067");
        assert_eq!(TileId::parse("0/x001/x234/067"), Some(tile));
    }

    #[test]
    fn partial_and_entry_tiles_round_trip() {
        for tile in [
            TileId {
                kind: TileKind::Entries,
                index: 5,
                width: 17,
            },
            TileId {
                kind: TileKind::Hashes { level: 2 },
                index: 999,
                width: 255,
            },
            TileId {
                kind: TileKind::Hashes { level: 1 },
                index: 1000,
                width: 1,
            },
            TileId {
                kind: TileKind::Entries,
                index: 0,
                width: 256,
            },
        ] {
            assert_eq!(TileId::parse(&tile.path()), Some(tile), "{}", tile.path());
        }
        assert_eq!(
            TileId {
                kind: TileKind::Entries,
                index: 5,
                width: 17
            }
            .path(),
            "entries/005.p/17"
        );
    }

    #[test]
    fn every_other_spelling_is_refused() {
        for bad in [
            "0/5",
            "0/0005",
            "0/x000/005",
            "00/005",
            "64/005",
            "0/005.p/256",
            "0/005.p/0",
            "0/005.p/017",
            "0/001/234",
            "0/x1/234",
            "entries",
            "0/",
            "x/005",
            "0/005.p/",
            "-1/005",
        ] {
            assert_eq!(TileId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn entry_bundles_prefix_each_entry_with_its_length() {
        let bundle =
            entry_bundle([b"ab".as_slice(), b"".as_slice(), b"xyz".as_slice()]).expect("fits");
        assert_eq!(bundle, b"\x00\x02ab\x00\x00\x00\x03xyz");
        assert_eq!(
            split_entry_bundle(&bundle),
            Some(vec![b"ab".as_slice(), b"", b"xyz"])
        );
        assert_eq!(split_entry_bundle(&bundle[..bundle.len() - 1]), None);
        assert_eq!(entry_bundle([vec![0u8; 65_536].as_slice()]), None);
    }
}
