//! No input makes a reader panic: random bytes, and random CSV-like and JSON-like text
//! built from the characters that matter to the parsers, under every format.

use proptest::prelude::*;
use truce_ingest::{read, Format, ReadOptions};

fn all_options() -> Vec<ReadOptions> {
    let mut v = Vec::new();
    for format in [
        None,
        Some(Format::Firms),
        Some(Format::UcdpGed),
        Some(Format::Acled),
        Some(Format::GeoJson),
        Some(Format::Patrol),
    ] {
        for strict in [false, true] {
            v.push(ReadOptions {
                strict,
                drop_duplicates: !strict,
                format,
            });
        }
    }
    v
}

fn read_every_way(bytes: &[u8]) {
    for opts in all_options() {
        if let Ok(got) = read("p", bytes, &opts) {
            let s = &got.summary;
            assert_eq!(s.rows_read, s.rows_kept + s.rejected_total() + s.duplicates_dropped);
            assert_eq!(got.num_rows() as u64, s.rows_kept);
        }
    }
    let _ = truce_ingest::read_gaps("g", bytes);
}

/// The constructed SMM-style patrol report, whose bytes the mutations start from.
const PATROL: &str = include_str!("fixtures/patrol/smm_2019-07-12.json");

const HEADERS: &[&str] = &[
    "latitude,longitude,acq_date,acq_time,scan,track,instrument\n",
    "LATITUDE,LONGITUDE,ACQ_DATE\n",
    "id,latitude,longitude,date_prec,where_prec,date_start,date_end,type_of_violence\n",
    "event_id_cnty,event_date,time_precision,event_type,sub_event_type,latitude,longitude,geo_precision\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        read_every_way(&bytes);
    }

    #[test]
    fn csv_like(header in 0..HEADERS.len(), body in "[0-9a-zA-Z.,;:/\"' \\-+TZ\r\n\t\u{feff}é]{0,300}") {
        read_every_way(format!("{}{body}", HEADERS[header]).as_bytes());
    }

    #[test]
    fn csv_rows(header in 0..HEADERS.len(), rows in proptest::collection::vec(
        proptest::collection::vec("|-?[0-9]{1,3}(\\.[0-9]{1,6})?|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}( [0-9]{1,2}:[0-9]{2}( [AP]M)?)?|[0-9]{1,4}|Battles|VIIRS|[a-z]{1,5}", 0..10),
        0..20)) {
        let body: String = rows.iter().map(|r| r.join(",") + "\n").collect();
        read_every_way(format!("{}{body}", HEADERS[header]).as_bytes());
    }

    #[test]
    fn patrol_like(body in "[\\[\\]{}:,\"0-9a-zA-Z.\\- ]{0,200}",
                   event in "[\\[\\]{}:,\"0-9a-zA-Z.\\- ]{0,120}") {
        let text = format!(r#"{{"format":"truce-patrol/1","reports":[{{"id":"R","monitor":"M","posts":[{{"lon":37.7,"lat":48,"start":"2019-07-12T08:00:00Z","end":"2019-07-12T10:00:00Z","events":[{{"counts":{{"explosions":1}},"perception":"heard",{event}}}],"restrictions":[{body}]}}]}}]}}"#);
        read_every_way(text.as_bytes());
        read_every_way(format!(r#"{{"format":"truce-patrol/1","reports":[{body}"#).as_bytes());
    }

    /// The real fixture with bytes replaced, deleted or inserted at random places.
    #[test]
    fn patrol_mutated(edits in proptest::collection::vec((0..PATROL.len(), 0u8..3, "[\\[\\]{}:,\"0-9a-zA-Z.\\- ]{0,6}"), 1..6)) {
        let mut b = PATROL.as_bytes().to_vec();
        for (at, op, s) in edits {
            let at = at.min(b.len());
            match op {
                0 => { b.splice(at..(at + s.len()).min(b.len()), s.bytes()); }
                1 => { b.drain(at..(at + s.len().max(1)).min(b.len())); }
                _ => { b.splice(at..at, s.bytes()); }
            }
        }
        read_every_way(&b);
    }

    #[test]
    fn json_like(body in "[\\[\\]{}:,\"0-9a-zA-Z.\\- ]{0,200}") {
        let text = format!(r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":{{"type":"Point","coordinates":[30,50]}},"properties":{body}"#);
        read_every_way(text.as_bytes());
        read_every_way(format!("{{{body}").as_bytes());
    }
}
