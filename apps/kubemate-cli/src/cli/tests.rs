//! The command line: what parses, into what, and what is refused with which message.

use clap::Parser;

use super::*;
use crate::error::clap_message;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("kubemate").chain(args.iter().copied()))
}

#[track_caller]
fn ok(args: &[&str]) -> Command {
    parse(args)
        .unwrap_or_else(|e| panic!("{args:?}: {}", clap_message(&e)))
        .command
}

/// The one-line message of a command line that must not parse.
#[track_caller]
fn refused(args: &[&str]) -> String {
    match parse(args) {
        Ok(cli) => panic!("{args:?} parsed: {cli:?}"),
        Err(e) => {
            let message = clap_message(&e);
            assert!(!message.contains('\n'), "{message}");
            message
        }
    }
}

#[test]
fn every_command_of_the_tree_parses() {
    for args in [
        &["crds"][..],
        &["crds", "install", "--timeout", "5"],
        &[
            "user",
            "create",
            "alice",
            "--password-stdin",
            "--display-name",
            "Alice",
            "--email",
            "a@x.io",
            "--role",
            "viewer",
        ],
        &["user", "list", "-o", "json"],
        &["user", "delete", "alice"],
        &["user", "passwd", "alice", "--password-stdin"],
        &["user", "disable", "alice"],
        &["user", "enable", "alice"],
        &[
            "role",
            "create",
            "viewer",
            "--namespaces",
            "a,b",
            "--rule",
            "get,list:deployments,pods",
            "--menu",
            "audit",
        ],
        &["role", "create", "ops", "--all-namespaces", "--rule", "*:*"],
        &["role", "list"],
        &["role", "delete", "viewer"],
        &["bind", "alice", "viewer"],
        &["unbind", "alice", "viewer"],
        &["get", "deployments"],
        &["get", "deploy", "web", "-n", "shop", "-o", "yaml"],
        &["get", "pods", "-A", "-l", "app=web"],
        &["get", "widgets.example.com", "-n", "x", "-o", "json"],
        &[
            "scale",
            "deployment",
            "web",
            "--replicas",
            "3",
            "-n",
            "shop",
        ],
        &["rollout", "history", "deployment", "web", "-n", "shop"],
        &[
            "rollout",
            "undo",
            "deployment",
            "web",
            "--to-revision",
            "1",
            "-n",
            "shop",
        ],
        &["rollout", "restart", "sts", "redis", "-n", "shop"],
        &["rollout", "pause", "deploy", "web", "-n", "shop"],
        &["rollout", "resume", "deploy", "web", "-n", "shop"],
        &[
            "logs", "web-1", "-c", "nginx", "--tail", "10", "-f", "-n", "shop",
        ],
        &["events"],
        &["events", "-n", "shop", "--warnings"],
        &["nodes", "-o", "yaml"],
        &[
            "ns",
            "create",
            "team-a",
            "--quota",
            "cpu=4,memory=8Gi,pods=20",
            "--limits",
            "default.memory=256Mi",
        ],
        &["app", "create", "-f", "app.yaml", "--registry", "docker.io"],
        &[
            "app",
            "create",
            "-f",
            "-",
            "--registry",
            "a.io,b.io",
            "--dry-run",
        ],
        &[
            "audit",
            "query",
            "--user",
            "bob",
            "--namespace",
            "shop",
            "--verb",
            "scale",
            "--outcome",
            "success",
            "--since",
            "2h",
            "--until",
            "2030-01-01T00:00:00Z",
            "--limit",
            "10",
        ],
        &[
            "audit",
            "verify",
            "--audit-log",
            "/var/log/kubemate/audit.jsonl",
        ],
        &["token", "rotate-key"],
        &["token", "rotate-key", "--grace", "3600"],
    ] {
        ok(args);
    }
}

#[test]
fn global_options_go_anywhere() {
    let cli = parse(&[
        "nodes",
        "--kubeconfig",
        "/k/config",
        "--context",
        "prod",
        "--audit-log",
        "/a.jsonl",
        "--kubemate-namespace",
        "km",
    ])
    .expect("parses");
    assert_eq!(cli.global.kubeconfig, Some("/k/config".into()));
    assert_eq!(cli.global.context.as_deref(), Some("prod"));
    assert_eq!(cli.global.audit_log, Some("/a.jsonl".into()));
    assert_eq!(cli.global.kubemate_namespace, "km");
}

#[test]
fn values_arrive_parsed() {
    let Command::Role(RoleCommand::Create {
        namespaces,
        rules,
        menus,
        all_namespaces,
        ..
    }) = ok(&[
        "role",
        "create",
        "viewer",
        "--namespaces",
        "a,b",
        "--rule",
        "get,list:deployments,pods",
        "--rule",
        "get:pods/log",
        "--menu",
        "audit",
    ])
    else {
        panic!("not role create")
    };
    assert_eq!(namespaces, ["a", "b"]);
    assert!(!all_namespaces);
    assert_eq!(menus, ["audit"]);
    let rules: Vec<_> = rules.into_iter().flat_map(|r| r.0).collect();
    assert_eq!(
        rules.len(),
        3,
        "deployments (apps), pods (core), pods/log (core)"
    );
    assert_eq!(rules[0].api_groups, ["apps"]);

    let Command::Ns(NsCommand::Create { quota, limits, .. }) = ok(&[
        "ns",
        "create",
        "t",
        "--quota",
        "cpu=4,memory=8Gi",
        "--quota",
        "pods=20",
        "--limits",
        "max.cpu=2",
    ]) else {
        panic!("not ns create")
    };
    assert_eq!(quota.len(), 2);
    assert_eq!(quota[1].pods, Some(20));
    assert_eq!(limits[0].max.cpu.as_deref(), Some("2"));

    let Command::Scale(s) = ok(&["scale", "deploy", "web", "--replicas", "0", "-n", "shop"]) else {
        panic!("not scale")
    };
    assert_eq!((s.kind, s.replicas), (WorkloadKind::Deployment, 0));

    let Command::Token(TokenCommand::RotateKey { grace }) =
        ok(&["token", "rotate-key", "--grace", "600"])
    else {
        panic!("not token rotate-key")
    };
    assert_eq!(grace, Some(600));
    let Command::Token(TokenCommand::RotateKey { grace }) = ok(&["token", "rotate-key"]) else {
        panic!("not token rotate-key")
    };
    assert_eq!(grace, None);
}

#[test]
fn a_grace_is_a_number_of_seconds() {
    let message = refused(&["token", "rotate-key", "--grace", "8h"]);
    assert!(message.contains("--grace"), "{message}");
    let message = refused(&["token", "rotate-key", "--grace", "-1"]);
    assert!(
        message.contains("--grace") || message.contains("-1"),
        "{message}"
    );
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    for (args, expected) in [
        (
            &[
                "role",
                "create",
                "r",
                "--namespaces",
                "a",
                "--rule",
                "get,list",
            ][..],
            "is not VERBS:RESOURCES",
        ),
        (
            &[
                "role",
                "create",
                "r",
                "--namespaces",
                "a",
                "--rule",
                "fly:pods",
            ],
            "unknown verb \"fly\"",
        ),
        (
            &[
                "role",
                "create",
                "r",
                "--namespaces",
                "a",
                "--rule",
                "get:gadgets",
            ],
            "unknown resource \"gadgets\"",
        ),
        (
            &["role", "create", "r", "--rule", "get:pods"],
            "--namespaces",
        ),
        (
            &[
                "role",
                "create",
                "r",
                "--namespaces",
                "a",
                "--all-namespaces",
                "--rule",
                "get:pods",
            ],
            "cannot be used with",
        ),
        (&["role", "create", "r", "--namespaces", "a"], "--rule"),
        (&["ns", "create", "t", "--quota", "cpu=lots"], "--quota"),
        (
            &["ns", "create", "t", "--quota", "gpus=1"],
            "unknown quota \"gpus\"",
        ),
        (&["ns", "create", "t", "--quota", "pods=-2"], "not a count"),
        (&["ns", "create", "t", "--limits", "cpu=1"], "SIDE.RESOURCE"),
        (
            &["scale", "deployment", "web", "--replicas", "2"],
            "--namespace <NS>",
        ),
        (&["scale", "deployment", "web", "-n", "shop"], "--replicas"),
        (
            &["scale", "service", "web", "--replicas", "2", "-n", "x"],
            "not a workload kind",
        ),
        (
            &[
                "scale",
                "deployment",
                "web",
                "--replicas",
                "many",
                "-n",
                "x",
            ],
            "invalid digit",
        ),
        (
            &["rollout", "history", "deployment", "web"],
            "--namespace <NS>",
        ),
        (
            &[
                "rollout",
                "undo",
                "deployment",
                "web",
                "--to-revision",
                "x",
                "-n",
                "s",
            ],
            "--to-revision",
        ),
        (&["logs", "web-1"], "--namespace <NS>"),
        (&["get", "pods", "-A", "-n", "shop"], "cannot be used with"),
        (&["get", "pods", "-l", "app in (a"], "--selector"),
        (
            &["get", "pods", "-o", "wide"],
            "possible values: table, yaml, json",
        ),
        (&["app", "create"], "--file"),
        (&["audit", "frobnicate"], "unrecognized subcommand"),
    ] {
        let message = refused(args);
        assert!(message.contains(expected), "{args:?}: {message}");
    }
}

#[test]
fn passwords_are_never_taken_from_the_command_line() {
    for args in [
        &["user", "create", "alice", "--password", "s3cret-s3cret"][..],
        &[
            "user",
            "create",
            "alice",
            "--password-stdin",
            "s3cret-s3cret",
        ],
        &["user", "create", "alice", "--password-stdin=s3cret-s3cret"],
        &["user", "passwd", "alice", "s3cret-s3cret"],
        &["user", "passwd", "alice", "--password", "s3cret-s3cret"],
    ] {
        let message = refused(args);
        // The refusal names the stray argument, which is why scripts must never try it; the
        // point here is that no command line carrying a password gets to run.
        assert!(!message.is_empty());
    }
    // Creating a user or setting a password without standard input is refused too.
    assert!(refused(&["user", "create", "alice"]).contains("--password-stdin"));
    assert!(refused(&["user", "passwd", "alice"]).contains("--password-stdin"));
}

#[test]
fn refusals_are_one_line_without_usage() {
    let message = refused(&["scale", "deployment", "web", "--replicas", "2"]);
    assert_eq!(
        message,
        "the following required arguments were not provided: --namespace <NS> (see --help)"
    );
}
