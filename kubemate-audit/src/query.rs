//! Queries over the audit log.

use serde::{Deserialize, Serialize};

use crate::{Decision, Error, Outcome, Record, Result};

/// What to look for. Every set field must match; times are RFC 3339.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// The acting user.
    pub user: Option<String>,
    /// Records at or after this time.
    pub since: Option<String>,
    /// Records before this time.
    pub until: Option<String>,
    /// The namespace.
    pub namespace: Option<String>,
    /// The verb.
    pub verb: Option<String>,
    /// `allowed`, `denied`, `success`, `failure` or `pending`.
    pub outcome: Option<String>,
    /// At most this many records (the newest ones).
    pub limit: Option<usize>,
}

fn normalize_time(field: &str, value: &str) -> Result<String> {
    let ts: jiff::Timestamp = value.parse().map_err(|e| {
        Error::InvalidQuery(format!("{field}: \"{value}\" is not an RFC 3339 time: {e}"))
    })?;
    Ok(ts.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
}

/// A query checked and ready to match records.
#[derive(Debug, Clone)]
pub struct Matcher {
    query: Query,
    since: Option<String>,
    until: Option<String>,
}

impl Query {
    /// Checks the query: times must parse, the outcome must be one of the known words.
    pub fn matcher(&self) -> Result<Matcher> {
        if let Some(o) = &self.outcome
            && !["allowed", "denied", "success", "failure", "pending"].contains(&o.as_str())
        {
            return Err(Error::InvalidQuery(format!(
                "outcome: \"{o}\" is not one of allowed, denied, success, failure, pending"
            )));
        }
        Ok(Matcher {
            since: self
                .since
                .as_deref()
                .map(|s| normalize_time("since", s))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|s| normalize_time("until", s))
                .transpose()?,
            query: self.clone(),
        })
    }
}

impl Matcher {
    /// True when `r` matches.
    pub fn matches(&self, r: &Record) -> bool {
        let q = &self.query;
        q.user.as_ref().is_none_or(|u| *u == r.user)
            && q.namespace
                .as_ref()
                .is_none_or(|n| Some(n) == r.namespace.as_ref())
            && q.verb.as_ref().is_none_or(|v| *v == r.verb)
            && self.since.as_ref().is_none_or(|s| r.time >= *s)
            && self.until.as_ref().is_none_or(|u| r.time < *u)
            && q.outcome.as_deref().is_none_or(|o| match o {
                "allowed" => r.decision == Decision::Allowed,
                "denied" => r.decision == Decision::Denied,
                "success" => r.outcome == Outcome::Success,
                "failure" => r.outcome == Outcome::Failure,
                _ => r.outcome == Outcome::Pending,
            })
    }

    /// Keeps the newest `limit` records of `records` (oldest first).
    pub fn limit(&self, mut records: Vec<Record>) -> Vec<Record> {
        if let Some(limit) = self.query.limit
            && records.len() > limit
        {
            records.drain(..records.len() - limit);
        }
        records
    }
}
