//! The server's configuration: flags, each with an environment variable, over an optional
//! YAML file, over defaults.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use serde::Deserialize;

/// The format of the logs (on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// Command-line flags (environment variables in brackets).
#[derive(Debug, Default, Parser)]
#[command(
    name = "kubemate-server",
    version,
    about = "Kubemate's HTTP API server"
)]
pub struct Cli {
    /// YAML configuration file (camelCase keys named like the flags); flags and environment
    /// variables take precedence over it.
    #[arg(long, env = "KUBEMATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080, loopback only].
    #[arg(long, env = "KUBEMATE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Run on an in-memory demo cluster. Without it and without a kubeconfig, the demo runs
    /// only on a loopback address; on any other the server refuses to start.
    #[arg(long, env = "KUBEMATE_DEMO")]
    pub demo: bool,
    /// Kubeconfig file [default: $KUBECONFIG, ~/.kube/config, or in-cluster].
    #[arg(long, env = "KUBEMATE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context.
    #[arg(long, env = "KUBEMATE_CONTEXT")]
    pub context: Option<String>,
    /// Kubemate's namespace (users' ServiceAccounts, the token key) [default: kubemate-system].
    #[arg(long, env = "KUBEMATE_NAMESPACE")]
    pub namespace: Option<String>,
    /// The audit log file [default: $XDG_STATE_HOME/kubemate/audit.jsonl].
    #[arg(long, env = "KUBEMATE_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// Image registries the app wizard may deploy from, comma-separated [default: none, or
    /// the demo's in demo mode].
    #[arg(long, env = "KUBEMATE_IMAGE_REGISTRIES", value_delimiter = ',')]
    pub image_registries: Option<Vec<String>>,
    /// Largest request body, in bytes [default: 1048576].
    #[arg(long, env = "KUBEMATE_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Longest request, in seconds (log follow streams excepted) [default: 30].
    #[arg(long, env = "KUBEMATE_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Lifetime of login tokens, in seconds [default: 28800].
    #[arg(long, env = "KUBEMATE_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    /// How long an authorizer is reused, in milliseconds [default: 2000].
    #[arg(long, env = "KUBEMATE_POLICY_TTL_MS")]
    pub policy_ttl_ms: Option<u64>,
    /// How long shutdown waits for requests in flight, in seconds [default: 20].
    #[arg(long, env = "KUBEMATE_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Longest log follow stream, in seconds [default: 1800].
    #[arg(long, env = "KUBEMATE_STREAM_MAX_SECS")]
    pub stream_max_secs: Option<u64>,
    /// Most streams one user may have open at a time [default: 4].
    #[arg(long, env = "KUBEMATE_MAX_STREAMS_PER_USER")]
    pub max_streams_per_user: Option<usize>,
    /// Log format [default: json].
    #[arg(long, env = "KUBEMATE_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
}

/// The configuration file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    demo: Option<bool>,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespace: Option<String>,
    audit_log: Option<PathBuf>,
    image_registries: Option<Vec<String>>,
    max_body_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    token_ttl_secs: Option<u64>,
    policy_ttl_ms: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    stream_max_secs: Option<u64>,
    max_streams_per_user: Option<usize>,
    log_format: Option<LogFormat>,
}

/// The configuration in force.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Demo mode asked for.
    pub demo: bool,
    /// Kubeconfig file.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context.
    pub context: Option<String>,
    /// Kubemate's namespace.
    pub namespace: String,
    /// The audit log file.
    pub audit_log: PathBuf,
    /// Image registries of the wizard; `None` for the mode's default.
    pub image_registries: Option<Vec<String>>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Longest request.
    pub request_timeout: Duration,
    /// Token lifetime.
    pub token_ttl: Duration,
    /// Authorizer reuse.
    pub policy_ttl: Duration,
    /// Shutdown grace.
    pub shutdown_grace: Duration,
    /// Longest stream.
    pub stream_max_duration: Duration,
    /// Open streams per user.
    pub max_streams_per_user: usize,
    /// Log format.
    pub log_format: LogFormat,
}

fn default_audit_log() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")));
    match state {
        Some(dir) => dir.join("kubemate").join("audit.jsonl"),
        None => PathBuf::from("kubemate-audit.jsonl"),
    }
}

impl Cli {
    /// Reads the configuration file, if any, and applies flags over it and defaults under it.
    pub fn resolve(self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                serde_yaml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        Ok(self.over(file))
    }

    fn over(self, file: FileConfig) -> Config {
        Config {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            demo: self.demo || file.demo.unwrap_or(false),
            kubeconfig: self.kubeconfig.or(file.kubeconfig),
            context: self.context.or(file.context),
            namespace: self
                .namespace
                .or(file.namespace)
                .unwrap_or_else(|| "kubemate-system".to_owned()),
            audit_log: self
                .audit_log
                .or(file.audit_log)
                .unwrap_or_else(default_audit_log),
            image_registries: self.image_registries.or(file.image_registries),
            max_body_bytes: self
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(1024 * 1024),
            request_timeout: Duration::from_secs(
                self.request_timeout_secs
                    .or(file.request_timeout_secs)
                    .unwrap_or(30),
            ),
            token_ttl: Duration::from_secs(
                self.token_ttl_secs
                    .or(file.token_ttl_secs)
                    .unwrap_or(8 * 3600),
            ),
            policy_ttl: Duration::from_millis(
                self.policy_ttl_ms.or(file.policy_ttl_ms).unwrap_or(2000),
            ),
            shutdown_grace: Duration::from_secs(
                self.shutdown_grace_secs
                    .or(file.shutdown_grace_secs)
                    .unwrap_or(20),
            ),
            stream_max_duration: Duration::from_secs(
                self.stream_max_secs
                    .or(file.stream_max_secs)
                    .unwrap_or(30 * 60),
            ),
            max_streams_per_user: self
                .max_streams_per_user
                .or(file.max_streams_per_user)
                .unwrap_or(4),
            log_format: self
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Json),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let file: FileConfig = serde_yaml::from_str(
            "listen: 0.0.0.0:9000\nnamespace: km\nmaxBodyBytes: 10\nimageRegistries: [a.io]\n",
        )
        .expect("file");
        let cli = Cli::parse_from(["kubemate-server", "--namespace", "other", "--demo"]);
        let config = cli.over(file);
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.namespace, "other");
        assert_eq!(config.max_body_bytes, 10);
        assert!(config.demo);
        assert_eq!(config.image_registries, Some(vec!["a.io".to_owned()]));
        let defaults = Cli::default().over(FileConfig::default());
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(defaults.namespace, "kubemate-system");
        assert_eq!(defaults.request_timeout, Duration::from_secs(30));
        assert_eq!(defaults.stream_max_duration, Duration::from_secs(1800));
        assert_eq!(defaults.max_streams_per_user, 4);
        let streams: FileConfig =
            serde_yaml::from_str("streamMaxSecs: 60\nmaxStreamsPerUser: 2\n").expect("file");
        let config =
            Cli::parse_from(["kubemate-server", "--max-streams-per-user", "3"]).over(streams);
        assert_eq!(config.stream_max_duration, Duration::from_secs(60));
        assert_eq!(config.max_streams_per_user, 3);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(serde_yaml::from_str::<FileConfig>("listn: x\n").is_err());
    }
}
