//! Output: tables like kubectl's (left-aligned columns three spaces apart, ages like `5m` or
//! `3d`), YAML and JSON.

use std::io::Write;

use k8s_openapi::jiff::Timestamp;
use kubemate_core::workload::human_duration;
use serde::Serialize;

use crate::Result;

/// The output format of `-o`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, for people.
    #[default]
    Table,
    /// YAML.
    Yaml,
    /// JSON (pretty-printed).
    Json,
}

/// Where a command writes its output.
pub type Out<'a> = &'a mut (dyn Write + Send);

/// A table: a header row and rows of cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text: every column as wide as its widest cell plus three spaces, the
    /// last one unpadded, as kubectl prints.
    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or_default();
                text.push_str(cell);
                if i + 1 < columns {
                    let pad = width - cell.chars().count() + 3;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.headers);
        for row in &self.rows {
            line(row);
        }
        out
    }

    /// Writes the table.
    pub fn write(&self, out: Out<'_>) -> Result<()> {
        out.write_all(self.render().as_bytes())?;
        Ok(())
    }
}

/// Writes `value` as YAML.
pub fn yaml<T: Serialize + ?Sized>(out: Out<'_>, value: &T) -> Result<()> {
    out.write_all(serde_yaml::to_string(value)?.as_bytes())?;
    Ok(())
}

/// Writes `value` as pretty JSON with a final newline.
pub fn json<T: Serialize + ?Sized>(out: Out<'_>, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Writes `value` as YAML or JSON, or the table `table` builds.
pub fn emit<T: Serialize + ?Sized>(
    out: Out<'_>,
    format: Format,
    value: &T,
    table: impl FnOnce() -> Table,
) -> Result<()> {
    match format {
        Format::Table => table().write(out),
        Format::Yaml => yaml(out, value),
        Format::Json => json(out, value),
    }
}

/// Writes one line.
pub fn line(out: Out<'_>, text: impl AsRef<str>) -> Result<()> {
    out.write_all(text.as_ref().as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The age of something created at `created` (RFC 3339), as kubectl shows it (`45s`, `5m`,
/// `3h`, `12d`); `<unknown>` without a time.
pub fn age(created: Option<&str>, now: Timestamp) -> String {
    match created.and_then(|c| c.parse::<Timestamp>().ok()) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".to_owned(),
    }
}

/// CPU millicores as Kubernetes writes them: `2`, `250m`.
pub fn cpu(milli: i64) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// Bytes in the largest binary unit that keeps them whole-ish: `512Mi`, `7.5Gi`.
pub fn bytes(n: i64) -> String {
    const UNITS: [(&str, i64); 4] = [
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            return if n % size == 0 {
                format!("{}{unit}", n / size)
            } else {
                format!("{:.1}{unit}", n as f64 / size as f64)
            };
        }
    }
    n.to_string()
}

/// `part` as a whole percentage of `total` (0 when `total` is 0).
pub fn percent(part: i64, total: i64) -> i64 {
    if total <= 0 { 0 } else { part * 100 / total }
}

/// A list or `<none>`, as kubectl shows empty values.
pub fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "<none>".to_owned()
    } else {
        items.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_three_spaces_apart_like_kubectl() {
        let mut t = Table::new(["NAME", "READY", "AGE"]);
        t.row(["web", "2/2", "5m"]);
        t.row(["database-primary", "0/1", "3d"]);
        assert_eq!(
            t.render(),
            "NAME               READY   AGE\n\
             web                2/2     5m\n\
             database-primary   0/1     3d\n"
        );
        // Empty last cells leave no trailing blanks.
        let mut t = Table::new(["A", "B"]);
        t.row(["x", ""]);
        assert_eq!(t.render(), "A   B\nx\n");
    }

    #[test]
    fn ages_and_amounts_read_like_kubectl() {
        let now: Timestamp = "2024-01-10T12:00:00Z".parse().expect("time");
        assert_eq!(age(Some("2024-01-10T11:59:15Z"), now), "45s");
        assert_eq!(age(Some("2024-01-10T11:55:00Z"), now), "5m");
        assert_eq!(age(Some("2024-01-07T12:00:00Z"), now), "3d");
        assert_eq!(age(None, now), "<unknown>");
        assert_eq!(cpu(2000), "2");
        assert_eq!(cpu(250), "250m");
        assert_eq!(bytes(512 << 20), "512Mi");
        assert_eq!(bytes(3 << 29), "1.5Gi");
        assert_eq!(bytes(100), "100");
        assert_eq!(percent(1, 4), 25);
        assert_eq!(percent(1, 0), 0);
    }
}
