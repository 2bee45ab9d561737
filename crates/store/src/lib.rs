//! Observation batches on disk as GeoParquet 1.1: Parquet files whose `geometry`
//! column holds WKB points and whose `geo` metadata says so, so that GeoPandas, DuckDB
//! and QGIS open them as they are.
//!
//! Writes are atomic: the file is written beside its destination under a temporary
//! name, flushed to disk, then renamed over it; a reader never sees half a file, and a
//! failed write leaves nothing behind. Reads check the file's size against a named
//! limit and its schema against the observation columns.
//!
//! ```
//! use truce_model::ObservationBatchBuilder;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("empty.parquet");
//! let batch = ObservationBatchBuilder::default().finish();
//! truce_store::write_geoparquet(&path, &batch.schema(), &[batch]).unwrap();
//! let (_, batches) = truce_store::read_geoparquet(&path).unwrap();
//! assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use truce_model::col;

/// GeoParquet files larger than this are refused on read.
pub const PARQUET_BYTES_MAX: u64 = 8 << 30;

/// Errors of this crate; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read, written or renamed.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file is not Parquet, or Parquet could not encode the batches.
    #[error("{path}: {source}")]
    Parquet { path: PathBuf, source: parquet::errors::ParquetError },
    /// The file holds no observation columns, or too much.
    #[error("{path}: {why}")]
    Invalid { path: PathBuf, why: String },
}

/// The GeoParquet `geo` metadata for a WKB point column with this bounding box.
pub fn geo_metadata(bbox: Option<[f64; 4]>) -> String {
    let mut column = serde_json::json!({ "encoding": "WKB", "geometry_types": ["Point"] });
    if let Some(b) = bbox {
        column["bbox"] = serde_json::json!(b);
    }
    serde_json::json!({
        "version": "1.1.0",
        "primary_column": col::GEOMETRY,
        "columns": { col::GEOMETRY: column },
    })
    .to_string()
}

fn bbox_of(batches: &[RecordBatch]) -> Option<[f64; 4]> {
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for batch in batches {
        let (Some(lon), Some(lat)) = (batch.column_by_name(col::LON), batch.column_by_name(col::LAT)) else {
            return None;
        };
        let (lon, lat) = (lon.as_primitive_opt::<Float64Type>()?, lat.as_primitive_opt::<Float64Type>()?);
        for (x, y) in lon.values().iter().zip(lat.values()) {
            b = [b[0].min(*x), b[1].min(*y), b[2].max(*x), b[3].max(*y)];
        }
    }
    b[0].is_finite().then_some(b)
}

/// Writes `batches` (all of `schema`) to `path` as GeoParquet, atomically.
pub fn write_geoparquet(path: &Path, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<u64, StoreError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = write_to(&tmp, schema, batches);
    match result {
        Ok(()) => {
            std::fs::rename(&tmp, path).map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Make the rename itself durable; not all platforms can open a directory.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_to(tmp: &Path, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(), StoreError> {
    let io = |source| StoreError::Io { path: tmp.to_path_buf(), source };
    let pq = |source| StoreError::Parquet { path: tmp.to_path_buf(), source };
    let file = File::create(tmp).map_err(io)?;
    // Unique-per-row columns gain nothing from dictionary encoding and pay for trying it.
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_column_dictionary_enabled(ColumnPath::from(col::ID), false)
        .set_column_dictionary_enabled(ColumnPath::from(col::GEOMETRY), false)
        .set_column_dictionary_enabled(ColumnPath::from(col::LINE), false)
        .set_column_dictionary_enabled(ColumnPath::from(col::LON), false)
        .set_column_dictionary_enabled(ColumnPath::from(col::LAT), false)
        .set_column_dictionary_enabled(ColumnPath::from(col::DISTANCE_KM), false);
    if schema.column_with_name(col::GEOMETRY).is_some() {
        props = props.set_key_value_metadata(Some(vec![KeyValue::new("geo".to_string(), geo_metadata(bbox_of(batches)))]));
    }
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props.build())).map_err(pq)?;
    for b in batches {
        w.write(b).map_err(pq)?;
    }
    let mut file = w.into_inner().map_err(pq)?;
    file.flush().map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Reads a GeoParquet (or plain Parquet) file written by [`write_geoparquet`] or by any
/// tool, provided it has the observation location columns.
pub fn read_geoparquet(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), StoreError> {
    let io = |source| StoreError::Io { path: path.to_path_buf(), source };
    let pq = |source| StoreError::Parquet { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > PARQUET_BYTES_MAX {
        return Err(StoreError::Invalid {
            path: path.to_path_buf(),
            why: format!("{len} bytes exceeds PARQUET_BYTES_MAX ({PARQUET_BYTES_MAX})"),
        });
    }
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?.with_batch_size(64 * 1024);
    let schema = builder.schema().clone();
    for c in [col::LON, col::LAT, col::TIME_START, col::TIME_END] {
        if schema.column_with_name(c).is_none() {
            return Err(StoreError::Invalid {
                path: path.to_path_buf(),
                why: format!("no `{c}` column: not an observation file (write one with `truce ingest`)"),
            });
        }
    }
    let reader = builder.build().map_err(pq)?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Parquet { path: path.to_path_buf(), source: e.into() })?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use truce_model::*;

    fn obs(line: u64, lon: f64, lat: f64) -> Observation {
        Observation {
            id: observation_id(&"ab".repeat(32), line),
            source: SourceKind::Firms,
            time: TimeSpan::day(NaiveDate::from_ymd_opt(2022, 3, 1).unwrap()),
            lon,
            lat,
            uncertainty_m: 375.0,
            kind: ObservationKind::Fire,
            attributes: r#"{"frp":1.5}"#.into(),
            provenance: Provenance { file_sha256: "ab".repeat(32), line },
        }
    }

    #[test]
    fn round_trip_keeps_every_value_and_the_geo_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.parquet");
        let mut b = ObservationBatchBuilder::default();
        let want = vec![obs(2, 37.5, 47.1), obs(3, 30.0, 50.4)];
        want.iter().for_each(|o| b.push(o));
        let batch = b.finish();
        write_geoparquet(&path, &batch.schema(), &[batch]).unwrap();
        let (_, got) = read_geoparquet(&path).unwrap();
        assert_eq!(observations_from_batch(&got[0]).unwrap(), want);
        let meta = parquet::file::reader::FileReader::metadata(
            &parquet::file::serialized_reader::SerializedFileReader::new(File::open(&path).unwrap()).unwrap(),
        )
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .find(|kv| kv.key == "geo")
        .unwrap()
        .value
        .clone()
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&meta).unwrap();
        assert_eq!(v["columns"]["geometry"]["bbox"], serde_json::json!([30.0, 47.1, 37.5, 50.4]));
        // No temporary file is left beside the output.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn non_observation_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        std::fs::write(&path, b"not parquet").unwrap();
        let err = read_geoparquet(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }
}
