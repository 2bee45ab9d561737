//! Feeds arbitrary bytes to `truce_ingest::read` under every format (detected and each
//! forced one, patrol reports included), and to `read_gaps`. The first byte chooses
//! `strict` and `drop_duplicates`; the rest is the file. A panic, or a summary whose
//! counts do not add up, is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use truce_ingest::{read, Format, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&options, bytes)) = data.split_first() else {
        return;
    };
    let formats = [
        None,
        Some(Format::Firms),
        Some(Format::UcdpGed),
        Some(Format::Acled),
        Some(Format::GeoJson),
        Some(Format::Patrol),
    ];
    for format in formats {
        let opts = ReadOptions {
            strict: options & 1 != 0,
            drop_duplicates: options & 2 != 0,
            format,
        };
        if let Ok(got) = read("fuzz.csv", bytes, &opts) {
            let s = &got.summary;
            assert_eq!(s.rows_read, s.rows_kept + s.rejected_total() + s.duplicates_dropped);
            assert_eq!(got.num_rows() as u64, s.rows_kept);
            assert!(s.messages.len() <= truce_ingest::MESSAGES_MAX);
            if opts.strict {
                assert_eq!(s.rejected_total(), 0);
            }
        }
    }
    let _ = truce_ingest::read_gaps("fuzz.jsonl", bytes);
});
