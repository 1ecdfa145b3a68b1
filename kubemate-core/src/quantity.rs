//! Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `10G`), parsed with `kube_quantity`.

use kube_quantity::ParsedQuantity;

use crate::{Cause, Error, Result};

/// Parses a quantity; the error names `field`.
pub fn parse(field: &str, value: &str) -> Result<ParsedQuantity> {
    ParsedQuantity::try_from(value).map_err(|e| {
        let message = format!("Invalid value: \"{value}\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        Error::invalid(
            format!("{field}: {message}"),
            vec![Cause {
                field: field.to_owned(),
                reason: "FieldValueInvalid".to_owned(),
                message,
            }],
        )
        .with_source(e)
    })
}

/// A quantity in thousandths of its unit (CPU millicores), rounded up as Kubernetes does.
pub fn milli(field: &str, value: &str) -> Result<i64> {
    let q = parse(field, value)?;
    let base = q.to_bytes_f64().unwrap_or(0.0);
    Ok((base * 1000.0).ceil() as i64)
}

/// A quantity in its base unit (bytes for memory and storage), rounded up.
pub fn base(field: &str, value: &str) -> Result<i64> {
    let q = parse(field, value)?;
    Ok(q.to_bytes_f64().unwrap_or(0.0).ceil() as i64)
}

/// Millicores, or 0 for a missing or malformed quantity (for totals over cluster data).
pub fn milli_or_zero(
    value: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> i64 {
    value.and_then(|q| milli("", &q.0).ok()).unwrap_or(0)
}

/// Base units, or 0 for a missing or malformed quantity (for totals over cluster data).
pub fn base_or_zero(
    value: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> i64 {
    value.and_then(|q| base("", &q.0).ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn quantities_parse_to_milli_and_base_units() {
        assert_eq!(milli("cpu", "250m").expect("valid"), 250);
        assert_eq!(milli("cpu", "2").expect("valid"), 2000);
        assert_eq!(milli("cpu", "0.5").expect("valid"), 500);
        assert_eq!(base("memory", "512Mi").expect("valid"), 512 * 1024 * 1024);
        assert_eq!(base("memory", "1G").expect("valid"), 1_000_000_000);
        let err = base("resources.limits.memory", "lots").expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.causes()[0].field, "resources.limits.memory");
    }
}
