//! `kubemate user ...`, `kubemate bind` and `kubemate unbind`: Kubemate users, managed as the
//! operator (the caller's own Kubernetes identity; see [`kubemate_rbac::Actor::Operator`]).

use kubemate_rbac::{
    NewUser, User,
    ops::{CreateUser, DeleteUser, ListUsers, SetBinding, SetDisabled, SetPassword, Unlock},
};
use serde::Serialize;

use super::{Env, Io};
use crate::{
    Result,
    cli::UserCommand,
    output::{Out, Table, age, emit, line},
};

/// What `user list` shows of a user: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// Account name.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Bound roles.
    pub roles: Vec<String>,
    /// Disabled or not.
    pub disabled: bool,
    /// The user's ServiceAccount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Last successful login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login: Option<String>,
    /// Logins refused until then, after repeated failures (`user unlock` lifts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    /// Creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        let status = u.status.clone().unwrap_or_default();
        UserView {
            name: u.account().to_owned(),
            display_name: u.spec.display_name.clone(),
            email: u.spec.email.clone(),
            roles: u.spec.roles.clone(),
            disabled: u.spec.disabled,
            service_account: status.service_account,
            last_login: status.last_login,
            locked_until: status.locked_until,
            created: u
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
        }
    }
}

/// Runs `kubemate user ...`.
pub async fn run(env: &Env, io: &mut Io<'_>, cmd: UserCommand) -> Result<()> {
    let rbac = env.rbac();
    match cmd {
        UserCommand::Create {
            name,
            password_stdin: _,
            display_name,
            email,
            roles,
        } => {
            let password = io.read_password()?;
            let new = NewUser {
                name: name.clone(),
                display_name: display_name.unwrap_or_default(),
                email: email.unwrap_or_default(),
                password,
                roles,
            };
            env.audit.admin(&rbac, &CreateUser(new)).await?;
            line(io.out, format!("user/{name} created"))
        }
        UserCommand::List { output } => {
            let users = env.audit.admin(&rbac, &ListUsers).await?;
            let views: Vec<UserView> = users.iter().map(UserView::from).collect();
            let now = (env.now)();
            emit(io.out, output, &views, || {
                let mut t =
                    Table::new(["NAME", "DISPLAY-NAME", "EMAIL", "ROLES", "DISABLED", "AGE"]);
                for u in &views {
                    t.row([
                        u.name.clone(),
                        u.display_name.clone(),
                        u.email.clone(),
                        crate::output::or_none(&u.roles),
                        u.disabled.to_string(),
                        age(u.created.as_deref(), now),
                    ]);
                }
                t
            })
        }
        UserCommand::Delete { name } => {
            env.audit.admin(&rbac, &DeleteUser(name.clone())).await?;
            line(io.out, format!("user/{name} deleted"))
        }
        UserCommand::Passwd {
            name,
            password_stdin: _,
        } => {
            let password = io.read_password()?;
            let op = SetPassword {
                user: name.clone(),
                password,
            };
            env.audit.admin(&rbac, &op).await?;
            line(io.out, format!("user/{name} password changed"))
        }
        UserCommand::Disable { name } => set_disabled(env, io.out, &name, true).await,
        UserCommand::Enable { name } => set_disabled(env, io.out, &name, false).await,
        UserCommand::Unlock { name } => {
            env.audit.admin(&rbac, &Unlock(name.clone())).await?;
            line(io.out, format!("user/{name} unlocked"))
        }
    }
}

async fn set_disabled(env: &Env, out: Out<'_>, name: &str, disabled: bool) -> Result<()> {
    let verb = if disabled { "disable" } else { "enable" };
    let op = SetDisabled {
        user: name.to_owned(),
        disabled,
    };
    env.audit.admin(&env.rbac(), &op).await?;
    line(out, format!("user/{name} {verb}d"))
}

/// `kubemate bind USER ROLE` (`bind`) and `kubemate unbind USER ROLE`. The audit record's kind
/// is `users/roles` and its name `USER/ROLE`.
pub async fn bind(env: &Env, out: Out<'_>, user: &str, role: &str, bind: bool) -> Result<()> {
    let op = SetBinding {
        user: user.to_owned(),
        role: role.to_owned(),
        bound: bind,
    };
    env.audit.admin(&env.rbac(), &op).await?;
    let (done, word) = if bind {
        ("bound", "to")
    } else {
        ("unbound", "from")
    };
    line(out, format!("role/{role} {done} {word} user/{user}"))
}
