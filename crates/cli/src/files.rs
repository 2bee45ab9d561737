//! File helpers shared by the subcommands: listing inputs, reading with the path in
//! the error, writing atomically, loading the country and the control map.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use truce_geometry::{ControlMap, Country};

/// The files named, with each folder replaced by its files of the given extensions
/// (sorted by name).
pub fn list_files(inputs: &[PathBuf], exts: &[&str]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot list", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| exts.iter().any(|e| x.eq_ignore_ascii_case(e))))
                .collect();
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

/// The whole file, or an error naming it.
pub fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))
}

/// Writes through a temporary file beside `path` and a rename, so no reader ever sees
/// half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot rename into place", path.display()))
}

/// The country from its regions' GeoJSON; says on stderr what was repaired.
pub fn load_country(admin: &Path) -> Result<Country> {
    let c = Country::from_geojson(&admin.display().to_string(), &read(admin)?)?;
    for r in &c.repairs {
        eprintln!("repaired {}: {} -> {} part(s)", r.what, r.problem, r.parts);
    }
    Ok(c)
}

/// The control map from GeoJSON files or folders of them (read in parallel); with
/// `backcast_from`, extended back to that date from the earliest snapshot's dated
/// liberated layers (see `truce_geometry::backcast`).
pub fn load_control_backcast(paths: &[PathBuf], backcast_from: Option<chrono::NaiveDate>) -> Result<ControlMap> {
    let mut map = load_control(paths)?;
    if let Some(d) = backcast_from {
        let from = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        let n = map.backcast_earliest(from)?;
        eprintln!("control map: {n} snapshot(s) inferred back to {d} from the earliest snapshot's dated liberated layers");
    }
    Ok(map)
}

/// The control map from GeoJSON files or folders of them (read in parallel).
pub fn load_control(paths: &[PathBuf]) -> Result<ControlMap> {
    let files = list_files(paths, &["geojson", "json"])?;
    let loaded: Vec<(String, Vec<u8>)> = files
        .par_iter()
        .map(|f| Ok((f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), read(f)?)))
        .collect::<Result<_>>()?;
    Ok(ControlMap::from_files(loaded)?)
}
