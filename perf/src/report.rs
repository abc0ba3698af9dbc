//! Result rows: collecting samples per (scenario, metric), attaching peer
//! figures, and printing the table or the JSON array scripts read.
//!
//! JSON shape (stable; later scenarios use it too): one array of objects
//! `{"scenario","metric","unit","better","min","median","max"}` plus
//! `"peer"`, `"peer_median"` and `"ratio"` (ours / peer's median) when a peer
//! ran that scenario.

use std::fmt::Write as _;

use crate::stats::{Better, Summary};

/// One measured quantity of one repetition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub value: f64,
}

impl Sample {
    pub fn new(metric: &'static str, unit: &'static str, better: Better, value: f64) -> Sample {
        Sample {
            metric,
            unit,
            better,
            value,
        }
    }
}

/// A peer's median for the same scenario and metric.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeerFigure {
    pub peer: String,
    pub median: f64,
}

/// One output row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// Who produced the figures: absent for the single-node scenarios
    /// (always Mesh), `"mesh"` or a peer's name for the remote ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    pub scenario: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub min: f64,
    pub median: f64,
    pub max: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_median: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
}

/// Accumulates samples in first-seen order of (scenario, metric).
#[derive(Debug, Default)]
pub struct Collector {
    keys: Vec<(String, &'static str, &'static str, Better)>,
    samples: Vec<Vec<f64>>,
}

impl Collector {
    pub fn add(&mut self, scenario: &str, s: &Sample) {
        let i = match self
            .keys
            .iter()
            .position(|(sc, m, _, _)| sc == scenario && *m == s.metric)
        {
            Some(i) => i,
            None => {
                self.keys
                    .push((scenario.to_owned(), s.metric, s.unit, s.better));
                self.samples.push(Vec::new());
                self.keys.len() - 1
            }
        };
        self.samples[i].push(s.value);
    }

    /// Rows for everything collected; `peer_of` supplies a peer figure for
    /// (scenario, metric) if one ran.
    pub fn rows(&self, peer_of: impl Fn(&str, &str) -> Option<PeerFigure>) -> Vec<Row> {
        self.keys
            .iter()
            .zip(&self.samples)
            .filter_map(|((scenario, metric, unit, better), samples)| {
                let s = Summary::of(samples)?;
                let peer = peer_of(scenario, metric);
                let ratio = peer
                    .as_ref()
                    .filter(|p| p.median != 0.0)
                    .map(|p| s.median / p.median);
                Some(Row {
                    runtime: None,
                    scenario: scenario.clone(),
                    metric: (*metric).to_owned(),
                    unit: (*unit).to_owned(),
                    better: *better,
                    min: s.min,
                    median: s.median,
                    max: s.max,
                    peer_median: peer.as_ref().map(|p| p.median),
                    peer: peer.map(|p| p.peer),
                    ratio,
                })
            })
            .collect()
    }

    /// The median of (scenario, metric), if anything was collected for it.
    pub fn median(&self, scenario: &str, metric: &str) -> Option<f64> {
        let i = self
            .keys
            .iter()
            .position(|(sc, m, _, _)| sc == scenario && *m == metric)?;
        Summary::of(&self.samples[i]).map(|s| s.median)
    }
}

/// Human-friendly number: engineering-ish with 3 significant digits.
pub fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The table shown to people. A `runtime` column comes first when any row
/// names its runtime (the remote scenarios).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let with_runtime = rows.iter().any(|r| r.runtime.is_some());
    let mut headers: Vec<String> = [
        "scenario", "metric", "unit", "min", "median", "max", "peer", "ratio",
    ]
    .map(String::from)
    .to_vec();
    let numeric_from = if with_runtime {
        headers.insert(0, "runtime".to_owned());
        4
    } else {
        3
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cols = vec![
                r.scenario.clone(),
                r.metric.clone(),
                r.unit.clone(),
                human(r.min),
                human(r.median),
                human(r.max),
                match (&r.peer, r.peer_median) {
                    (Some(p), Some(m)) => format!("{p} {}", human(m)),
                    _ => "-".into(),
                },
                match r.ratio {
                    Some(x) => format!(
                        "{x:.2}x ({})",
                        match r.better {
                            Better::Higher => "higher is better",
                            Better::Lower => "lower is better",
                        }
                    ),
                    None => "-".into(),
                },
            ];
            if with_runtime {
                cols.insert(0, r.runtime.clone().unwrap_or_else(|| "mesh".into()));
            }
            cols
        })
        .collect();
    let mut width: Vec<usize> = headers.iter().map(String::len).collect();
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, cols: &[String]| {
        for (i, (c, &w)) in cols.iter().zip(&width).enumerate() {
            let numeric = (numeric_from..numeric_from + 3).contains(&i);
            if numeric {
                let _ = write!(out, "{c:>w$}  ");
            } else {
                let _ = write!(out, "{c:<w$}  ");
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(&mut out, &headers);
    let rule: Vec<String> = width.iter().map(|&w| "-".repeat(w)).collect();
    line(&mut out, &rule);
    for row in &cells {
        line(&mut out, row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector() -> Collector {
        let mut c = Collector::default();
        for v in [10.0, 30.0, 20.0] {
            c.add(
                "send-local",
                &Sample::new("throughput", "msgs/s", Better::Higher, v),
            );
        }
        c.add(
            "pingpong-local",
            &Sample::new("p50", "us", Better::Lower, 2.0),
        );
        c
    }

    #[test]
    fn rows_summarise_and_attach_ratio() {
        let rows = collector().rows(|sc, m| {
            (sc == "send-local" && m == "throughput").then(|| PeerFigure {
                peer: "erlang".into(),
                median: 5.0,
            })
        });
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].scenario, "send-local");
        assert_eq!(
            (rows[0].min, rows[0].median, rows[0].max),
            (10.0, 20.0, 30.0)
        );
        assert_eq!(rows[0].ratio, Some(4.0));
        assert_eq!(rows[1].ratio, None);
        assert_eq!(rows[1].peer, None);
    }

    #[test]
    fn json_has_the_documented_keys() {
        let rows = collector().rows(|_, _| {
            Some(PeerFigure {
                peer: "erlang".into(),
                median: 4.0,
            })
        });
        let v = serde_json::to_value(&rows).expect("serialise");
        let first = &v[0];
        for key in [
            "scenario",
            "metric",
            "unit",
            "min",
            "median",
            "max",
            "peer",
            "peer_median",
            "ratio",
        ] {
            assert!(first.get(key).is_some(), "missing {key}");
        }
        assert_eq!(first["ratio"], 5.0);
        let no_peer = serde_json::to_value(collector().rows(|_, _| None)).expect("serialise");
        assert!(no_peer[0].get("peer").is_none());
        assert!(no_peer[0].get("ratio").is_none());
    }

    #[test]
    fn table_aligns_and_shows_ratio() {
        let rows = collector().rows(|_, _| None);
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("scenario"));
        assert!(lines[2].starts_with("send-local"));
        assert!(lines[2].contains("20.00"));
        assert_eq!(human(52_300_000.0), "52.30M");
        assert_eq!(human(0.5), "0.500");
    }
}
