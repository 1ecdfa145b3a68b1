//! Authentication (the Bearer token extractor) and the authorization helpers the pipeline
//! ([`crate::pipeline`]) and the handlers of Kubemate's own areas call before anything is
//! done.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use kubemate_rbac::{AdminArea, Decision, Namespaces, Policy, Request, Token, verify_token};

use crate::{audit::AuditCtx, error::ApiError, state::AppState};

/// An authenticated caller, with the authorizer their token was checked against (so that one
/// request sees one consistent set of users and roles).
#[derive(Clone)]
pub struct AuthUser {
    /// The account name.
    pub name: String,
    /// The authorizer.
    pub policy: Arc<Policy>,
    /// The token the caller presented, kept so that a long-lived stream can check it again
    /// ([`crate::streams`]).
    token: Token,
}

impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn bearer(parts: &Parts) -> Result<Token, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("a Bearer token is required (POST /api/v1/auth/login)")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not a Bearer token"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Token::new(token.trim()))
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header is not a Bearer token",
        )),
    }
}

/// Checks `token` (signature, expiry, and that its user exists, is enabled and has not had
/// its tokens revoked) against the current authorizer: at the start of every request, and
/// again every second for as long as a stream lasts.
pub async fn authenticate(state: &AppState, token: Token) -> Result<AuthUser, ApiError> {
    // Re-read when the token names a key this server does not hold yet (a rotation made by
    // the CLI or another replica), at most once a second.
    let keys = state.rbac.token_keys_for(&token).await?;
    let policy = state.policy().await?;
    let now = (state.rbac.config().clock)();
    let claims = verify_token(&keys, &policy, &token, now)?;
    Ok(AuthUser {
        name: claims.sub,
        policy,
        token,
    })
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = authenticate(state, bearer(parts)?).await?;
        if let Some(ctx) = parts.extensions.get::<AuditCtx>() {
            ctx.set_user(&user.name);
        }
        Ok(user)
    }
}

fn decided(decision: Decision) -> Result<(), ApiError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(ApiError::forbidden(reason)),
    }
}

impl AuthUser {
    /// The token the caller authenticated with.
    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    /// The namespaces the caller may use.
    pub fn namespaces(&self) -> Namespaces {
        self.policy.namespaces(&self.name)
    }

    /// True when the caller may see namespace `ns`.
    pub fn sees(&self, ns: &str) -> bool {
        self.namespaces().contains(ns)
    }

    /// Refuses (403) a collection request in a namespace the caller cannot see, whether or
    /// not it exists.
    pub fn require_namespace(&self, ns: &str) -> Result<(), ApiError> {
        if self.sees(ns) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "user \"{}\" may not use namespace \"{ns}\"",
                self.name
            )))
        }
    }

    /// Answers an object request in a namespace the caller cannot see exactly as a missing
    /// object (404, worded for `qualified_plural`), so that other tenants' objects cannot be
    /// probed.
    pub fn require_visible(
        &self,
        ns: &str,
        qualified_plural: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        if self.sees(ns) {
            Ok(())
        } else {
            Err(ApiError::not_found(qualified_plural, name).denied())
        }
    }

    /// Every request must be allowed; the first refusal is the answer (403 with its reason).
    pub fn allow(&self, requests: &[Request<'_>]) -> Result<(), ApiError> {
        for req in requests {
            decided(self.policy.authorize(&self.name, req))?;
        }
        Ok(())
    }

    /// The caller must be an administrator for `area`.
    pub fn require_area(&self, area: AdminArea) -> Result<(), ApiError> {
        decided(self.policy.area_allowed(&self.name, area))
    }

    /// The caller must have the console section `menu`.
    pub fn require_menu(&self, menu: &str) -> Result<(), ApiError> {
        decided(self.policy.menu_allowed(&self.name, menu))
    }

    /// True for administrators.
    pub fn is_admin(&self) -> bool {
        self.policy.is_admin(&self.name)
    }
}
