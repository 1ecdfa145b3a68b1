//! `kubemate ns create`: a namespace as a tenant, with its quota and limits.

use kubemate_core::tenant::{self, LimitsSpec, QuotaSpec, TenantDefaults, TenantSpec};

use super::Env;
use crate::{
    Result,
    cli::NsCommand,
    output::{Out, line},
};

/// Runs `kubemate ns ...`.
pub async fn run(env: &Env, out: Out<'_>, cmd: NsCommand) -> Result<()> {
    let NsCommand::Create {
        name,
        quota,
        limits,
        description,
    } = cmd;
    // Later flags override earlier ones, key by key.
    let quota = (!quota.is_empty()).then(|| {
        quota
            .iter()
            .fold(QuotaSpec::default(), |acc, q| acc.overlay(q))
    });
    let limits = (!limits.is_empty()).then(|| {
        limits
            .iter()
            .fold(LimitsSpec::default(), |acc, l| acc.overlay(l))
    });
    let spec = TenantSpec {
        name: name.clone(),
        description,
        quota,
        limits,
        ..Default::default()
    };
    // The CLI has no installation defaults: the tenant gets what the flags say.
    let defaults = TenantDefaults::default();
    let op = tenant::CreateTenant { defaults, spec };
    let created = env.audit.run(env.cluster(), &op).await?;
    line(out, format!("namespace/{name} created"))?;
    if created.quota.is_some() {
        line(out, format!("resourcequota/{} created", tenant::QUOTA_NAME))?;
    }
    if created.limit_range.is_some() {
        line(
            out,
            format!("limitrange/{} created", tenant::LIMIT_RANGE_NAME),
        )?;
    }
    Ok(())
}
