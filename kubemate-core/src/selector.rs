//! Parsing and validation of label and field selectors in Kubernetes syntax.
//!
//! The apiserver rejects a malformed selector with `BadRequest`; so do these parsers, so that
//! callers (and the fake cluster) fail the same way before any request is sent.

use std::collections::{BTreeMap, BTreeSet};

use kube::core::{Expression, Selector, SelectorExt};

use crate::{Error, ErrorKind, Result};

fn bad(message: String) -> Error {
    Error::new(ErrorKind::BadRequest, message)
}

/// A parsed label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector(Selector);

impl LabelSelector {
    /// Parses `app=web,tier in (a,b),!legacy,env!=prod,track`.
    pub fn parse(input: &str) -> Result<Self> {
        let mut exprs = Vec::new();
        let mut parser = Parser {
            chars: input.chars().collect(),
            pos: 0,
        };
        parser.skip_ws();
        if parser.at_end() {
            return Ok(LabelSelector(Selector::default()));
        }
        loop {
            exprs.push(parser.requirement(input)?);
            parser.skip_ws();
            match parser.next() {
                None => break,
                Some(',') => continue,
                Some(c) => {
                    return Err(bad(format!(
                        "unable to parse requirement: found '{c}', expected: ',' or end of string in \"{input}\""
                    )));
                }
            }
        }
        Ok(LabelSelector(exprs.into_iter().collect()))
    }

    /// True when `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.matches(labels)
    }

    /// The kube selector.
    pub fn as_selector(&self) -> &Selector {
        &self.0
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | '=' | '!' | '(' | ')') {
                break;
            }
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn requirement(&mut self, input: &str) -> Result<Expression> {
        self.skip_ws();
        if self.peek() == Some('!') {
            self.pos += 1;
            self.skip_ws();
            let key = self.word();
            validate_label_key(&key)?;
            return Ok(Expression::DoesNotExist(key));
        }
        let key = self.word();
        if key.is_empty() {
            return Err(bad(format!(
                "unable to parse requirement: found '{}', expected: identifier in \"{input}\"",
                self.peek().map(String::from).unwrap_or_default()
            )));
        }
        validate_label_key(&key)?;
        self.skip_ws();
        match self.peek() {
            None | Some(',') => Ok(Expression::Exists(key)),
            Some('=') => {
                self.pos += 1;
                if self.peek() == Some('=') {
                    self.pos += 1;
                }
                let value = self.value()?;
                Ok(Expression::Equal(key, value))
            }
            Some('!') => {
                self.pos += 1;
                if self.next() != Some('=') {
                    return Err(bad(format!(
                        "unable to parse requirement: expected '!=' after {key} in \"{input}\""
                    )));
                }
                let value = self.value()?;
                Ok(Expression::NotEqual(key, value))
            }
            Some(_) => {
                let op = self.word();
                let values = match op.as_str() {
                    "in" | "notin" => self.value_set(input)?,
                    other => {
                        return Err(bad(format!(
                            "unable to parse requirement: found '{other}', expected: in, notin, =, ==, !=, or end of string in \"{input}\""
                        )));
                    }
                };
                Ok(if op == "in" {
                    Expression::In(key, values)
                } else {
                    Expression::NotIn(key, values)
                })
            }
        }
    }

    fn value(&mut self) -> Result<String> {
        self.skip_ws();
        let value = self.word();
        validate_label_value(&value)?;
        Ok(value)
    }

    fn value_set(&mut self, input: &str) -> Result<BTreeSet<String>> {
        self.skip_ws();
        if self.next() != Some('(') {
            return Err(bad(format!(
                "unable to parse requirement: expected '(' in \"{input}\""
            )));
        }
        let mut values = BTreeSet::new();
        loop {
            let value = self.value()?;
            values.insert(value);
            self.skip_ws();
            match self.next() {
                Some(',') => continue,
                Some(')') => return Ok(values),
                _ => {
                    return Err(bad(format!(
                        "unable to parse requirement: expected ',' or ')' in \"{input}\""
                    )));
                }
            }
        }
    }
}

/// Validates a label key (`[prefix/]name`), as Kubernetes does.
pub fn validate_label_key(key: &str) -> Result<()> {
    if crate::names::is_qualified_name(key) {
        Ok(())
    } else {
        Err(bad(format!(
            "invalid label key \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )))
    }
}

/// Validates a label value (empty, or up to 63 name characters).
pub fn validate_label_value(value: &str) -> Result<()> {
    if crate::names::is_label_value(value) {
        Ok(())
    } else {
        Err(bad(format!(
            "invalid label value: \"{value}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )))
    }
}

/// One requirement of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// True for `=`/`==`, false for `!=`.
    pub equals: bool,
    /// The value compared with.
    pub value: String,
}

/// A parsed field selector: requirements that all must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector(pub Vec<FieldRequirement>);

impl FieldSelector {
    /// Parses `metadata.name=x,status.phase!=Running`.
    pub fn parse(input: &str) -> Result<Self> {
        let mut reqs = Vec::new();
        for part in input.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, equals, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(bad(format!(
                    "invalid selector: '{input}'; can't understand '{part}'"
                )));
            };
            reqs.push(FieldRequirement {
                field: field.trim().to_owned(),
                equals,
                value: value.trim().to_owned(),
            });
        }
        Ok(FieldSelector(reqs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_parse_and_match() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let db = labels(&[("app", "db"), ("legacy", "")]);
        let cases = [
            ("", true, true),
            ("app=web", true, false),
            ("app==web", true, false),
            ("app != web", false, true),
            ("tier in (front, back)", true, false),
            ("app notin (web)", false, true),
            ("legacy", false, true),
            ("!legacy", true, false),
            ("app,tier", true, false),
            ("example.com/team=a", false, false),
        ];
        for (sel, on_web, on_db) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&web), on_web, "{sel} on web");
            assert_eq!(s.matches(&db), on_db, "{sel} on db");
        }
    }

    #[test]
    fn malformed_label_selectors_are_bad_requests() {
        for sel in [
            "app=(",
            "in (a)",
            "app in a",
            "app in (a",
            "app=we b",
            "-bad=x",
            "a=b=c",
            "app ~ x",
        ] {
            let err = LabelSelector::parse(sel).expect_err(sel);
            assert_eq!(err.kind(), ErrorKind::BadRequest, "{sel}");
        }
    }

    #[test]
    fn field_selectors_parse() {
        let s = FieldSelector::parse("metadata.name=a, status.phase!=Running").expect("valid");
        assert_eq!(s.0.len(), 2);
        assert!(s.0[0].equals && !s.0[1].equals);
        assert_eq!(s.0[1].field, "status.phase");
        assert!(FieldSelector::parse("nonsense").is_err());
    }
}
