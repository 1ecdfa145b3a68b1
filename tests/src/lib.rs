//! The harness of the workspace integration tests.
//!
//! The tests run against the real control plane that `tests/cluster/cluster.sh up` starts
//! (kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok on 127.0.0.1). They
//! find it through the kubeconfig named by `KUBEMATE_TEST_KUBECONFIG`; without it they fail
//! loudly rather than skip, so a missing cluster can never pass as green.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::Arc,
};

use kubemate_core::{ClientConfig, ClusterClient, KubeClusterClient};

/// The environment variable naming the test cluster's admin kubeconfig.
pub const KUBECONFIG_ENV: &str = "KUBEMATE_TEST_KUBECONFIG";

/// The admin kubeconfig of the test cluster.
pub fn kubeconfig() -> PathBuf {
    match std::env::var_os(KUBECONFIG_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => panic!(
            "{KUBECONFIG_ENV} is not set: the integration tests need the real test control plane. \
             Run `tests/run.sh` (it starts the cluster, runs every test and stops it), or start it \
             with `tests/cluster/cluster.sh up` and export \
             {KUBECONFIG_ENV}=target/test-cluster/kubeconfig."
        ),
    }
}

/// A client with the cluster's admin identity.
pub async fn cluster() -> Arc<dyn ClusterClient> {
    let config = ClientConfig {
        kubeconfig: Some(kubeconfig()),
        context: None,
    };
    let client = KubeClusterClient::connect(&config)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
    Arc::new(client)
}

/// A binary of the workspace, built by `cargo test --workspace` beside the test executable
/// (`target/debug/NAME`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    // target/debug/deps/integration-<hash> → target/debug/NAME
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the target directory");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: these tests run the built binary. `cargo test --workspace` builds it; \
         with `-p kubemate-tests` alone, run `cargo build --workspace` first.",
        bin.display()
    );
    bin
}

/// The `kubemate` CLI as one operator uses it: the admin kubeconfig, its own audit log, and a
/// Kubemate namespace of its own (so it shares the cluster with the other tests).
pub struct Operator {
    bin: PathBuf,
    kubeconfig: PathBuf,
    /// The audit log its commands append to.
    pub audit_log: PathBuf,
    home: String,
    _dir: tempfile::TempDir,
}

impl Operator {
    /// An operator of the Kubemate install in namespace `home`.
    pub fn new(home: String) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Operator {
            bin: binary("kubemate"),
            kubeconfig: kubeconfig(),
            audit_log: dir.path().join("audit.jsonl"),
            home,
            _dir: dir,
        }
    }

    /// Runs `kubemate ARGS` with `stdin` on its standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(&self.bin)
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--kubemate-namespace")
            .arg(&self.home)
            .env("KUBEMATE_AUDIT_LOG", &self.audit_log)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubemate");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("write stdin");
        drop(input);
        child.wait_with_output().expect("kubemate ran")
    }

    /// The standard output of a command that must succeed.
    #[track_caller]
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "kubemate {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }
}
