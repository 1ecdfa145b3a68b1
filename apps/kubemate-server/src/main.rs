//! `kubemate-server`: parses the configuration, builds the state, serves until SIGINT or
//! SIGTERM.

use clap::Parser;
use kubemate_server::{
    config::{Cli, LogFormat},
    startup,
};
use tracing_subscriber::EnvFilter;

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Cli::parse().resolve()?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.init(),
    }

    // Everything that can refuse to start (no cluster on a public address) comes before the
    // bind.
    let built = startup::build(&config).await?;
    if let Some(demo) = built.demo {
        eprintln!("WARNING: {}", demo.notice());
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    if built.demo.is_some() {
        println!("Kubemate is running on the in-memory demo cluster at {base}");
    } else {
        println!("Kubemate is running at {base}");
    }
    if let Some(password) = &built.admin_password {
        println!("The first administrator was created; this password is shown only once:");
        println!("  account:  admin");
        println!("  password: {}", password.expose());
        println!("Log in:");
        println!(
            "  curl -s {base}/api/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"account\":\"admin\",\"password\":\"{}\"}}'",
            password.expose()
        );
    }
    println!("Then: curl -s {base}/api/v1/me -H \"authorization: Bearer $TOKEN\"");
    tracing::info!(listen = %addr, demo = built.demo.is_some(), audit_log = %config.audit_log.display(), "serving");
    startup::serve(
        built.state,
        listener,
        shutdown_signal(),
        config.shutdown_grace,
    )
    .await
}
