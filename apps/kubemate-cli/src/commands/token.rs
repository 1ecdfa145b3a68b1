//! `kubemate token ...`: the signing key of Kubemate's login tokens, rotated as the operator
//! (the caller's own Kubernetes identity, which must be allowed to update the key Secret).

use std::{sync::Arc, time::Duration};

use kubemate_core::workload::human_duration;
use kubemate_rbac::{Config, Rbac, ops::RotateTokenKey};

use super::Env;
use crate::{
    Result,
    cli::TokenCommand,
    output::{Out, line},
};

/// Runs `kubemate token ...`.
pub async fn run(env: &Env, out: Out<'_>, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::RotateKey { grace } => {
            let rbac = Rbac::new(
                Arc::clone(&env.client),
                Config {
                    namespace: env.kubemate_namespace.clone(),
                    token_key_grace: grace.map(Duration::from_secs),
                    clock: Arc::clone(&env.now),
                    ..Config::default()
                },
            );
            let op = RotateTokenKey {
                namespace: env.kubemate_namespace.clone(),
                secret: rbac.config().token_key_secret.clone(),
            };
            let rotation = env.audit.admin(&rbac, &op).await?;
            line(
                out,
                format!("token signing key rotated: new key id {}", rotation.kid),
            )?;
            let grace = i64::try_from(rotation.grace.as_secs()).unwrap_or(i64::MAX);
            line(
                out,
                format!(
                    "the previous key ({}) verifies the tokens it signed for {} more, until {}",
                    rotation.retired_kid,
                    human_duration(grace),
                    rotation.accepted_until
                ),
            )?;
            if !rotation.dropped.is_empty() {
                line(
                    out,
                    format!(
                        "removed the keys past their grace: {}",
                        rotation.dropped.join(", ")
                    ),
                )?;
            }
            Ok(())
        }
    }
}
