//! Issue 6's end-to-end run, with the real binaries on the real control plane: the `kubemate`
//! CLI installs the CRDs, creates a user and a read-only role for one namespace and binds them;
//! `kubemate-server` runs as a process; through HTTP that user logs in, sees exactly that
//! namespace, lists its Deployments, and is refused another namespace and a scale; the
//! administrator's scale works and the Pods follow. Every call is in the server's audit log with
//! its outcome; `kubemate audit verify` passes on it, then fails once one line is edited.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
};

use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kubemate_core::{
    ClusterClient, ClusterClientExt, DeleteOptions, ListOptions, ResourceType, WriteOptions,
    conformance::{drop_namespace, eventually, fresh_namespace, suffix},
    testing::mk_deployment,
};
use kubemate_rbac::{Role, User};
use kubemate_tests::Operator;
use serde_json::{Value, json};

/// The server process; killed when dropped, so a failing test leaves no server behind.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

async fn http(
    client: &HttpClient,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Full::new(bytes::Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .expect("request");
    let response = client.request(req).await.expect("the server answers");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

async fn running_pods(client: &dyn ClusterClient, ns: &str) -> usize {
    client
        .list_all_as::<Pod>(ns, &ListOptions::labels("app=web"))
        .await
        .expect("pods")
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .count()
}

#[tokio::test]
async fn cli_server_and_audit_work_together_on_the_real_cluster() {
    let admin = kubemate_tests::cluster().await;
    let admin = &*admin;
    let sfx = suffix();
    let home = fresh_namespace(admin, "e2e-km").await;
    let tenant = fresh_namespace(admin, "e2e-a").await;
    let other = fresh_namespace(admin, "e2e-b").await;
    admin
        .create(
            &ResourceType::new("apps", "v1", "Deployment", "deployments", true),
            &tenant,
            &mk_deployment("web", 1, "registry.example.com/web:1"),
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");

    // The operator's part, through the CLI.
    let op = Operator::new(home.clone());
    op.ok(&["crds", "install"], "");
    let viewer = format!("viewer-{sfx}");
    let role = format!("ro-{sfx}");
    op.ok(
        &["user", "create", &viewer, "--password-stdin"],
        "viewer-secret-1\n",
    );
    op.ok(
        &[
            "role",
            "create",
            &role,
            "--namespaces",
            &tenant,
            "--rule",
            "get,list,watch:deployments,pods",
        ],
        "",
    );
    op.ok(&["bind", &viewer, &role], "");

    // The administrator's password, as an install provides it.
    let admin_password = format!("admin-{sfx}-password");
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "kubemate-admin-password"},
        "stringData": {"password": admin_password}
    }))
    .expect("secret");
    admin
        .create_as(&home, &secret)
        .await
        .expect("admin password secret");
    // `admin` is one cluster-wide name: a previous run on this cluster may have left it.
    let _ = admin.delete_as::<User>("", "admin").await;

    // The server, as a process.
    let dir = tempfile::tempdir().expect("temp dir");
    let audit_log = dir.path().join("server-audit.jsonl");
    let port = free_port();
    let server = Server {
        child: Command::new(kubemate_tests::binary("kubemate-server"))
            .arg("--kubeconfig")
            .arg(kubemate_tests::kubeconfig())
            .args([
                "--namespace",
                &home,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--audit-log")
            .arg(&audit_log)
            .args(["--policy-ttl-ms", "0", "--log-format", "json"])
            .env_remove("KUBECONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kubemate-server"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let base = server.base.clone();
    eventually("the server to be ready", || async {
        let req = http::Request::get(format!("{base}/readyz"))
            .body(Full::default())
            .ok()?;
        let response = client.request(req).await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    let url = |path: &str| format!("{base}/api/v1{path}");

    // The read-only user.
    let (status, body) = http(
        &client,
        "POST",
        &url("/auth/login"),
        None,
        Some(json!({"account": viewer, "password": "viewer-secret-1"})),
    )
    .await;
    assert_eq!(status, 200, "login: {body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let (status, me) = http(&client, "GET", &url("/me"), Some(&token), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["namespaces"], json!([tenant]), "{me}");
    let (status, list) = http(
        &client,
        "GET",
        &url(&format!("/namespaces/{tenant}/deployments")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert!(list.to_string().contains("\"web\""), "{list}");
    let (status, body) = http(
        &client,
        "GET",
        &url(&format!("/namespaces/{other}/deployments")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = http(
        &client,
        "PUT",
        &url(&format!("/namespaces/{tenant}/deployments/web/scale")),
        Some(&token),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "Forbidden");

    // The administrator.
    let (status, body) = http(
        &client,
        "POST",
        &url("/auth/login"),
        None,
        Some(json!({"account": "admin", "password": admin_password})),
    )
    .await;
    assert_eq!(status, 200, "admin login: {body}");
    let admin_token = body["token"].as_str().expect("token").to_owned();
    let (status, body) = http(
        &client,
        "PUT",
        &url(&format!("/namespaces/{tenant}/deployments/web/scale")),
        Some(&admin_token),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually("3 running pods", || async {
        (running_pods(admin, &tenant).await == 3).then_some(())
    })
    .await;
    drop(server);

    // The audit log of the server, read with the CLI.
    let audit = |args: &[&str]| {
        let mut all = vec!["audit"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--audit-log", audit_log.to_str().expect("utf-8 path")]);
        op.run(&all, "")
    };
    let out = audit(&["query", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json records");
    let find = |user: &str, verb: &str, ns: Option<&str>, decision: &str, outcome: &str| {
        records.iter().any(|r| {
            r["user"] == user
                && r["verb"] == verb
                && ns.is_none_or(|ns| r["namespace"] == ns)
                && r["decision"] == decision
                && r["outcome"] == outcome
        })
    };
    let expectations = [
        (viewer.as_str(), "login", None, "allowed", "success"),
        (
            viewer.as_str(),
            "list",
            Some(tenant.as_str()),
            "allowed",
            "success",
        ),
        (
            viewer.as_str(),
            "list",
            Some(other.as_str()),
            "denied",
            "failure",
        ),
        (
            viewer.as_str(),
            "scale",
            Some(tenant.as_str()),
            "denied",
            "failure",
        ),
        ("admin", "login", None, "allowed", "success"),
        (
            "admin",
            "scale",
            Some(tenant.as_str()),
            "allowed",
            "success",
        ),
    ];
    for (user, verb, ns, decision, outcome) in expectations {
        assert!(
            find(user, verb, ns, decision, outcome),
            "no record of {user} {verb} {ns:?} {decision} {outcome} in {records:#?}"
        );
    }
    let text = std::fs::read_to_string(&audit_log).expect("audit log");
    assert!(!text.contains("viewer-secret-1") && !text.contains(&admin_password));
    assert!(!text.contains(&token), "no token in the audit log");

    let verified = audit(&["verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let edited = text.replacen("\"decision\":\"denied\"", "\"decision\":\"allowed\"", 1);
    assert_ne!(edited, text, "there was a denial to edit");
    std::fs::write(&audit_log, edited).expect("edit one line");
    let broken = audit(&["verify"]);
    assert!(
        !broken.status.success(),
        "verify must fail on an edited log"
    );
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("line"), "names the line: {stderr}");

    // Clean up what is cluster-wide, then the namespaces.
    op.ok(&["unbind", &viewer, &role], "");
    op.ok(&["user", "delete", &viewer], "");
    op.ok(&["role", "delete", &role], "");
    let _ = admin.delete_as::<User>("", "admin").await;
    let _ = admin.delete_as::<Role>("", "admin").await;
    let _ = admin
        .delete(
            &ResourceType::of::<Secret>(),
            &home,
            "kubemate-admin-password",
            &DeleteOptions::default(),
        )
        .await;
    for ns in [&tenant, &other, &home] {
        drop_namespace(admin, ns).await;
    }
}
