//! The operations of [`crate::ops`] declare the request kubemate-rbac's own check makes of a
//! Kubemate user: a user without it is refused for exactly that request, before any write.

use super::*;
use crate::{
    DenyReason, Error,
    ops::{
        AdminOperation, CreateRole, CreateUser, DeleteRole, DeleteUser, ReplaceRole, SetBinding,
        SetDisabled, SetPassword, Unlock,
    },
    testing::rule,
};

/// `op`, run by `user` who holds none of its declared requests, is refused for the first of
/// them and writes nothing.
async fn refused_as_declared<O: AdminOperation>(w: &World, user: &str, op: O) {
    let declared = op.access();
    let first = declared.first().expect("a declared request");
    let writes = w.fake.writes().len();
    let err = match op.run(&w.rbac, Actor::User(user)).await {
        Ok(_) => panic!("{:?} was allowed", op.target()),
        Err(e) => e,
    };
    match &err {
        Error::Forbidden(DenyReason::NotPermitted { request, .. }) => {
            let wanted = format!("{} {}/{}", first.verb, first.group, first.resource);
            assert!(request.starts_with(&wanted), "{:?}: {request}", op.target());
        }
        other => panic!("{:?}: {other}", op.target()),
    }
    assert_eq!(w.fake.writes().len(), writes, "{:?} wrote", op.target());
}

#[tokio::test]
async fn each_user_and_role_change_declares_the_request_kubemate_checks() {
    let w = world().await;
    w.role("reader", vec![rule(&["get"], &[""], &["pods"])], &["shop"])
        .await;
    w.role("other", vec![rule(&["get"], &[""], &["pods"])], &["pay"])
        .await;
    w.user("bob", &["reader"]).await;
    w.user("carol", &["other"]).await;
    let spec = || mk_role_spec(vec![rule(&["get"], &[""], &["pods"])], &["shop"]);
    let new_user = NewUser {
        name: "dana".into(),
        display_name: String::new(),
        email: String::new(),
        password: Password::new("dana-password-1".to_owned()),
        roles: vec![],
    };
    refused_as_declared(&w, "bob", CreateUser(new_user)).await;
    refused_as_declared(&w, "bob", DeleteUser("carol".into())).await;
    for bound in [true, false] {
        let op = SetBinding {
            user: "carol".into(),
            role: "reader".into(),
            bound,
        };
        refused_as_declared(&w, "bob", op).await;
    }
    let op = SetPassword {
        user: "carol".into(),
        password: Password::new("another-password-1".to_owned()),
    };
    refused_as_declared(&w, "bob", op).await;
    let op = SetDisabled {
        user: "carol".into(),
        disabled: true,
    };
    refused_as_declared(&w, "bob", op).await;
    refused_as_declared(&w, "bob", Unlock("carol".into())).await;
    let op = CreateRole {
        name: "new".into(),
        spec: spec(),
    };
    refused_as_declared(&w, "bob", op).await;
    let op = ReplaceRole {
        name: "other".into(),
        stated_name: None,
        spec: spec(),
    };
    refused_as_declared(&w, "bob", op).await;
    refused_as_declared(&w, "bob", DeleteRole("other".into())).await;
}
