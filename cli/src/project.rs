//! Finding a project's sources: `mesh.toml` and the `.mpl` files.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a project could not be loaded (a usage error: exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a Mesh source file (expected a `.mpl` file or a project directory)")]
    NotSource { path: String },
    #[error("{path}: invalid mesh.toml: {message}")]
    Manifest { path: String, message: String },
    #[error(
        "{path}: a [cluster] table is not allowed in mesh.toml; declare clustered work in source with `@cluster pub fn ...`"
    )]
    ClusterTable { path: String },
    #[error("{path}: entrypoint `{entry}` is not supported; the entry point must be `main.mpl`")]
    Entrypoint { path: String, entry: String },
    #[error(
        "{path}: `meshc build` takes a project directory (mesh.toml and main.mpl), not a file; `meshc run {path}` runs one file"
    )]
    BuildFile { path: String },
    #[error("{dir}: no main.mpl (a project needs `main.mpl` with `fn main()`)")]
    NoMain { dir: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    package: Package,
    #[serde(default)]
    #[allow(dead_code)]
    dependencies: toml::Table,
    #[serde(default)]
    cluster: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Package {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
    #[serde(default)]
    entrypoint: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// A loaded project.
#[derive(Debug)]
pub struct Project {
    /// The package name (the built executable's name).
    pub name: String,
    pub root: PathBuf,
    /// `(module path relative to the root, source)`, for the checker.
    pub files: Vec<(String, String)>,
    /// The path to show for each file in diagnostics.
    pub display: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ProjectError + '_ {
    move |source| ProjectError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Loads a project directory, or a single `.mpl` file as a one-module
/// project whose entry it is.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    if !path.exists() {
        return Err(ProjectError::Missing {
            path: path.display().to_string(),
        });
    }
    if path.is_file() {
        if path.extension().and_then(|e| e.to_str()) != Some("mpl") {
            return Err(ProjectError::NotSource {
                path: path.display().to_string(),
            });
        }
        let src = fs::read_to_string(path).map_err(io(path))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("main")
            .to_string();
        return Ok(Project {
            name,
            root: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            files: vec![("main.mpl".to_string(), src)],
            display: vec![path.display().to_string()],
        });
    }
    load_dir(path, true)
}

/// Loads the project in directory `path`; with `require_main`, a missing
/// `main.mpl` is an error (`meshc test` runs projects of modules only).
pub fn load_dir(path: &Path, require_main: bool) -> Result<Project, ProjectError> {
    if !path.is_dir() {
        return Err(ProjectError::Missing {
            path: path.display().to_string(),
        });
    }
    let manifest_path = path.join("mesh.toml");
    let mut name = None;
    if manifest_path.exists() {
        let text = fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
        let m: Manifest = toml::from_str(&text).map_err(|e| ProjectError::Manifest {
            path: manifest_path.display().to_string(),
            message: e.message().to_string(),
        })?;
        if m.cluster.is_some() {
            return Err(ProjectError::ClusterTable {
                path: manifest_path.display().to_string(),
            });
        }
        if let Some(e) = m.package.entrypoint
            && e != "main.mpl"
        {
            return Err(ProjectError::Entrypoint {
                path: manifest_path.display().to_string(),
                entry: e,
            });
        }
        if m.package.name.trim().is_empty() {
            return Err(ProjectError::Manifest {
                path: manifest_path.display().to_string(),
                message: "package.name must not be empty".into(),
            });
        }
        name = Some(m.package.name);
    }
    let mut files = Vec::new();
    collect(path, path, &is_module, &mut files)?;
    files.sort();
    if require_main && !files.iter().any(|(p, _)| p == "main.mpl") {
        return Err(ProjectError::NoMain {
            dir: path.display().to_string(),
        });
    }
    let name = name.unwrap_or_else(|| {
        fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "main".to_string())
    });
    let display = files
        .iter()
        .map(|(p, _)| path.join(p).display().to_string())
        .collect();
    Ok(Project {
        name,
        root: path.to_path_buf(),
        files,
        display,
    })
}

/// A module file name: `.mpl` but not `*.test.mpl`.
fn is_module(fname: &str) -> bool {
    fname.ends_with(".mpl") && !fname.ends_with(".test.mpl")
}

/// Every file under `base` whose name `keep` accepts, as (path relative
/// to `base` with `/` separators, text); hidden entries and `target/` are
/// skipped.
pub fn collect(
    base: &Path,
    dir: &Path,
    keep: &dyn Fn(&str) -> bool,
    out: &mut Vec<(String, String)>,
) -> Result<(), ProjectError> {
    let entries = fs::read_dir(dir).map_err(io(dir))?;
    for e in entries {
        let p = e.map_err(io(dir))?.path();
        let fname = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if fname.starts_with('.') || fname == "target" {
            continue;
        }
        if p.is_dir() {
            collect(base, &p, keep, out)?;
        } else if keep(fname) {
            let rel = p
                .strip_prefix(base)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let src = fs::read_to_string(&p).map_err(io(&p))?;
            out.push((rel, src));
        }
    }
    Ok(())
}
