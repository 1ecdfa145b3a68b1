//! `mk_*` builders of users and roles, for the unit tests and (feature `test-util`) the
//! workspace integration tests.

use crate::{Role, RoleSpec, Rule, User, UserSpec, resources::PasswordHash};

/// A role over `namespaces` (`["*"]` for all) with `rules` and `menus`.
pub fn mk_role(name: &str, rules: Vec<Rule>, namespaces: &[&str], menus: &[&str]) -> Role {
    Role::new(
        name,
        RoleSpec {
            menus: menus.iter().map(|s| (*s).to_owned()).collect(),
            ..mk_role_spec(rules, namespaces)
        },
    )
}

/// The spec of a role over `namespaces` (`["*"]` for all) with `rules`, no description and no
/// menus.
pub fn mk_role_spec(rules: Vec<Rule>, namespaces: &[&str]) -> RoleSpec {
    RoleSpec {
        description: String::new(),
        rules,
        namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
        menus: vec![],
    }
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
