//! The unit tests' harness: the commands run on the demo fake cluster, their audit records go
//! to a temporary file, and the clock stands still.

use std::{path::PathBuf, sync::Arc};

use async_trait::async_trait;
use clap::Parser;
use k8s_openapi::jiff::Timestamp;
use kubemate_audit::{AuditSink, Entry, FileSink, Query, Record};
use kubemate_core::{ApplyOptions, ClusterClientExt, FakeCluster};

use super::{Env, Io, execute};
use crate::{Auditor, Cli, Result};

/// The harness's time: a few days after the demo's last rollout.
pub(crate) const NOW: &str = "2026-12-01T12:00:00Z";
/// The acting user of the harness's records.
pub(crate) const OPERATOR: &str = "ops-admin";

pub(crate) struct Harness {
    pub(crate) fake: FakeCluster,
    pub(crate) env: Env,
    pub(crate) audit_log: PathBuf,
    _dir: tempfile::TempDir,
}

/// What a command printed and how it ended.
pub(crate) struct Run {
    pub(crate) result: Result<()>,
    pub(crate) out: String,
}

impl Run {
    /// The output of a command that must have succeeded.
    #[track_caller]
    pub(crate) fn ok(self) -> String {
        if let Err(e) = &self.result {
            panic!("command failed: {e}\noutput:\n{}", self.out);
        }
        self.out
    }

    /// The error of a command that must have failed.
    #[track_caller]
    pub(crate) fn err(self) -> crate::Error {
        match self.result {
            Ok(()) => panic!("command succeeded:\n{}", self.out),
            Err(e) => e,
        }
    }
}

/// The demo cluster with Kubemate's CRDs.
pub(crate) async fn harness() -> Harness {
    let fake = FakeCluster::demo().expect("demo cluster");
    for crd in kubemate_rbac::crds() {
        fake.apply_as("", &crd, &ApplyOptions::default())
            .await
            .expect("crd");
    }
    with_cluster(fake)
}

/// A harness on `fake`.
pub(crate) fn with_cluster(fake: FakeCluster) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit_log = dir.path().join("audit.jsonl");
    let sink = FileSink::open(&audit_log, false).expect("audit log");
    let now: Timestamp = NOW.parse().expect("time");
    let env = Env {
        client: Arc::new(fake.clone()),
        audit: Auditor::new(Arc::new(sink), OPERATOR),
        kubemate_namespace: "kubemate-system".to_owned(),
        default_namespace: "shop".to_owned(),
        now: Arc::new(move || now),
    };
    Harness {
        fake,
        env,
        audit_log,
        _dir: dir,
    }
}

impl Harness {
    /// Parses `args` as `kubemate ARGS...` and runs it with `stdin` on standard input.
    pub(crate) async fn run(&self, args: &[&str], stdin: &str) -> Run {
        let cli = Cli::try_parse_from(std::iter::once("kubemate").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?} does not parse: {e}"));
        let mut out = Vec::new();
        let mut input = stdin.as_bytes();
        let mut io = Io {
            out: &mut out,
            stdin: &mut input,
            stdin_is_terminal: false,
        };
        let result = execute(cli.command, &self.env, &mut io).await;
        Run {
            result,
            out: String::from_utf8(out).expect("utf-8 output"),
        }
    }

    /// Every audit record written so far.
    pub(crate) async fn records(&self) -> Vec<Record> {
        FileSink::open(&self.audit_log, false)
            .expect("audit log")
            .query(&Query::default())
            .await
            .expect("records")
    }

    /// The same cluster with an audit log that cannot be written.
    pub(crate) fn with_broken_audit(&self) -> Env {
        Env {
            audit: Auditor::new(Arc::new(BrokenSink), OPERATOR),
            ..self.env.clone()
        }
    }
}

/// An audit sink whose disk is full.
struct BrokenSink;

#[async_trait]
impl AuditSink for BrokenSink {
    async fn append(&self, _: Entry) -> kubemate_audit::Result<Record> {
        Err(kubemate_audit::Error::Io {
            path: "/audit/audit.jsonl".into(),
            source: std::io::Error::other("no space left on device"),
        })
    }

    async fn query(&self, _: &Query) -> kubemate_audit::Result<Vec<Record>> {
        Ok(Vec::new())
    }
}
