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

/// Grows `b` (min lon, min lat, max lon, max lat) by the points of `batch`, if it has
/// location columns.
fn grow_bbox(b: &mut [f64; 4], batch: &RecordBatch) {
    let (Some(lon), Some(lat)) = (batch.column_by_name(col::LON), batch.column_by_name(col::LAT)) else { return };
    let (Some(lon), Some(lat)) = (lon.as_primitive_opt::<Float64Type>(), lat.as_primitive_opt::<Float64Type>()) else {
        return;
    };
    for (x, y) in lon.values().iter().zip(lat.values()) {
        *b = [b[0].min(*x), b[1].min(*y), b[2].max(*x), b[3].max(*y)];
    }
}

/// Writes batches one at a time to a GeoParquet file, so a file of any size streams
/// through a little memory. The data goes to a temporary file beside `path`;
/// [`GeoParquetWriter::finish`] adds the `geo` metadata (with the bbox of everything
/// written), flushes it to disk and renames it into place. Dropped unfinished, it
/// removes the temporary file: nothing is half-written.
pub struct GeoParquetWriter {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<ArrowWriter<File>>,
    bbox: [f64; 4],
    geo: bool,
}

impl GeoParquetWriter {
    /// Starts a file of batches of `schema`.
    pub fn create(path: &Path, schema: &SchemaRef) -> Result<Self, StoreError> {
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
        let io = |source| StoreError::Io { path: tmp.clone(), source };
        let file = File::create(&tmp).map_err(io)?;
        // Unique-per-row columns gain nothing from dictionary encoding and pay for trying it.
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_column_dictionary_enabled(ColumnPath::from(col::ID), false)
            .set_column_dictionary_enabled(ColumnPath::from(col::GEOMETRY), false)
            .set_column_dictionary_enabled(ColumnPath::from(col::LINE), false)
            .set_column_dictionary_enabled(ColumnPath::from(col::LON), false)
            .set_column_dictionary_enabled(ColumnPath::from(col::LAT), false)
            .set_column_dictionary_enabled(ColumnPath::from(col::DISTANCE_KM), false)
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            StoreError::Parquet { path: tmp.clone(), source }
        })?;
        Ok(GeoParquetWriter {
            path: path.to_path_buf(),
            geo: schema.column_with_name(col::GEOMETRY).is_some(),
            tmp,
            writer: Some(writer),
            bbox: [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
        })
    }

    /// Appends one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        grow_bbox(&mut self.bbox, batch);
        let w = self.writer.as_mut().expect("writer is present until finish");
        w.write(batch).map_err(|source| StoreError::Parquet { path: self.tmp.clone(), source })
    }

    /// Completes the file and renames it into place; returns its size in bytes.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        let mut w = self.writer.take().expect("writer is present until finish");
        let pq = |source| StoreError::Parquet { path: self.tmp.clone(), source };
        if self.geo {
            let bbox = self.bbox[0].is_finite().then_some(self.bbox);
            w.append_key_value_metadata(KeyValue::new("geo".to_string(), geo_metadata(bbox)));
        }
        let mut file = w.into_inner().map_err(pq)?;
        let io = |source| StoreError::Io { path: self.tmp.clone(), source };
        file.flush().map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&self.tmp, &self.path).map_err(|source| StoreError::Io { path: self.path.clone(), source })?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; not all platforms can open a directory.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0))
    }
}

impl Drop for GeoParquetWriter {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `batches` (all of `schema`) to `path` as GeoParquet, atomically.
pub fn write_geoparquet(path: &Path, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<u64, StoreError> {
    let mut w = GeoParquetWriter::create(path, schema)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

/// An open observation file: its schema, row count, and its batches one at a time.
pub struct GeoParquetReader {
    pub schema: SchemaRef,
    pub rows: u64,
    path: PathBuf,
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
}

impl Iterator for GeoParquetReader {
    type Item = Result<RecordBatch, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next().map(|r| r.map_err(|e| StoreError::Parquet { path: self.path.clone(), source: e.into() }))
    }
}

/// Opens a GeoParquet (or plain Parquet) observation file to read batch by batch,
/// checking its size and its location and time columns first.
pub fn open_geoparquet(path: &Path) -> Result<GeoParquetReader, StoreError> {
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
    let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let reader = builder.build().map_err(pq)?;
    Ok(GeoParquetReader { schema, rows, path: path.to_path_buf(), reader })
}

/// Reads a whole GeoParquet (or plain Parquet) observation file into memory.
pub fn read_geoparquet(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), StoreError> {
    let r = open_geoparquet(path)?;
    let schema = r.schema.clone();
    Ok((schema, r.collect::<Result<Vec<_>, _>>()?))
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
    fn an_unfinished_writer_leaves_nothing_and_a_stream_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        let mut b = ObservationBatchBuilder::default();
        (0..10).for_each(|i| b.push(&obs(i + 2, 30.0 + i as f64, 48.0)));
        let batch = b.finish();
        {
            let mut w = GeoParquetWriter::create(&path, &batch.schema()).unwrap();
            w.write(&batch).unwrap();
            // Dropped without finish: as if the process failed half-way.
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut w = GeoParquetWriter::create(&path, &batch.schema()).unwrap();
        w.write(&batch.slice(0, 4)).unwrap();
        w.write(&batch.slice(4, 6)).unwrap();
        w.finish().unwrap();
        let r = open_geoparquet(&path).unwrap();
        assert_eq!(r.rows, 10);
        let got: Vec<Observation> = r.flat_map(|b| observations_from_batch(&b.unwrap()).unwrap()).collect();
        assert_eq!(got, observations_from_batch(&batch).unwrap());
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
