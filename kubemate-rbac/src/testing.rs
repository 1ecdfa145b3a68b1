//! `mk_*` helpers of the unit tests.

use crate::{Role, RoleSpec, Rule, User, UserSpec, resources::PasswordHash};

/// A role over `namespaces` (`["*"]` for all) with `rules` and `menus`.
pub fn mk_role(name: &str, rules: Vec<Rule>, namespaces: &[&str], menus: &[&str]) -> Role {
    Role::new(
        name,
        RoleSpec {
            description: String::new(),
            rules,
            namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
            menus: menus.iter().map(|s| (*s).to_owned()).collect(),
        },
    )
}

/// A user bound to `roles`, with a placeholder hash (no login).
pub fn mk_user(name: &str, roles: &[&str]) -> User {
    User::new(
        name,
        UserSpec {
            display_name: String::new(),
            email: String::new(),
            password_hash: PasswordHash::default(),
            disabled: false,
            roles: roles.iter().map(|s| (*s).to_owned()).collect(),
            token_generation: 0,
        },
    )
}

/// `Rule::new` shorthand.
pub fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
    Rule::new(verbs, groups, resources)
}
