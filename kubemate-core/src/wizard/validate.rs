//! Validation of an [`AppSpec`] before anything is sent.
//!
//! Field paths name the AppSpec's own (camelCase JSON) fields, with list indices and map keys in
//! brackets: `ports[1].port`, `volumes[0].mountPath`, `labels[tier]`,
//! `service.ports[0].targetPort`. They are what the user filled in, so a form can put each
//! message beside its input. (Errors the apiserver returns later, on a dry run or a create,
//! keep the apiserver's paths into the Deployment or Service.)

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    APP_NAME_LABEL, AppSpec, PortSpec, ProbeSpec, Registries, SchedulingSpec, ServiceSpec,
    ServiceType, VolumeSpec,
};
use crate::validation::{self, Problems, check_port};

/// The node ports a default apiserver hands out (`--service-node-port-range`).
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<i32> = 30000..=32767;

/// Records every problem of `spec` in `problems`.
pub fn check(spec: &AppSpec, registries: &Registries, problems: &mut Problems) {
    problems.dns_label("namespace", &spec.namespace);
    problems.dns_label("name", &spec.name);
    check_image(spec, registries, problems);
    if let Some(policy) = &spec.image_pull_policy
        && !["Always", "IfNotPresent", "Never"].contains(&policy.as_str())
    {
        problems.not_supported(
            "imagePullPolicy",
            policy,
            &["Always", "IfNotPresent", "Never"],
        );
    }
    check_ports(&spec.ports, problems);
    check_resources(spec, problems);
    let probes = [
        ("liveness", &spec.probes.liveness),
        ("readiness", &spec.probes.readiness),
        ("startup", &spec.probes.startup),
    ];
    for (which, probe) in probes {
        if let Some(probe) = probe {
            check_probe(
                &format!("probes.{which}"),
                which,
                probe,
                &spec.ports,
                problems,
            );
        }
    }
    check_env(spec, problems);
    if let Some(replicas) = spec.replicas
        && replicas < 0
    {
        problems.invalid("replicas", replicas, "must be greater than or equal to 0");
    }
    check_rolling_update(spec, problems);
    check_scheduling(&spec.scheduling, problems);
    check_volumes(&spec.volumes, problems);
    problems.labels("labels", &spec.labels);
    if let Some(value) = spec.labels.get(APP_NAME_LABEL)
        && *value != spec.name
    {
        problems.forbidden(
            format!("labels[{APP_NAME_LABEL}]"),
            format!("the wizard sets {APP_NAME_LABEL} to the app's name, which selects its Pods"),
        );
    }
    if let Some(service) = &spec.service {
        check_service(service, &spec.ports, problems);
    }
}

fn check_image(spec: &AppSpec, registries: &Registries, problems: &mut Problems) {
    let image = spec.image.as_str();
    if image.is_empty() {
        problems.required("image");
    } else if image.chars().any(char::is_whitespace) {
        problems.invalid("image", image, "must not contain whitespace");
    } else if !registries.allows(image) {
        problems.forbidden(
            "image",
            format!(
                "\"{image}\" is not from a configured registry (allowed: {})",
                if registries.allowed.is_empty() {
                    "none configured".to_owned()
                } else {
                    registries.allowed.join(", ")
                }
            ),
        );
    }
}

fn check_ports(ports: &[PortSpec], problems: &mut Problems) {
    let mut seen_ports = BTreeSet::new();
    let mut seen_names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        check_port(problems, &format!("ports[{i}].port"), p.port);
        if !seen_ports.insert((p.port, p.protocol)) {
            problems.duplicate(
                format!("ports[{i}].port"),
                format!("{}/{}", p.port, p.protocol.as_str()),
            );
        }
        if let Some(name) = &p.name {
            let field = format!("ports[{i}].name");
            if !validation::is_iana_svc_name(name) {
                problems.invalid(
                    &field,
                    name,
                    "must be at most 15 lowercase alphanumeric characters or '-', contain a letter, and neither start, end with nor repeat '-'",
                );
            } else if !seen_names.insert(name.as_str()) {
                problems.duplicate(field, name);
            }
        }
    }
}

/// Parses one request or limit; `None` when absent or malformed (then recorded).
fn amount(
    problems: &mut Problems,
    which: &str,
    resource: &str,
    value: Option<&str>,
) -> Option<(i64, String)> {
    let value = value?;
    let field = format!("resources.{which}.{resource}");
    let n = if resource == "cpu" {
        problems.millis(&field, value)?
    } else {
        problems.bytes(&field, value)?
    };
    if n < 0 {
        problems.invalid(field, value, "must be greater than or equal to 0");
        return None;
    }
    Some((n, value.to_owned()))
}

fn check_resources(spec: &AppSpec, problems: &mut Problems) {
    let r = &spec.resources;
    let pairs = [
        ("cpu", r.requests.cpu.as_deref(), r.limits.cpu.as_deref()),
        (
            "memory",
            r.requests.memory.as_deref(),
            r.limits.memory.as_deref(),
        ),
    ];
    for (resource, request, limit) in pairs {
        let request = amount(problems, "requests", resource, request);
        let limit = amount(problems, "limits", resource, limit);
        if let (Some((request, request_text)), Some((limit, limit_text))) = (request, limit)
            && request > limit
        {
            problems.invalid(
                format!("resources.requests.{resource}"),
                request_text,
                &format!("must be less than or equal to {resource} limit of {limit_text}"),
            );
        }
    }
}

/// Checks that a port reference (probe or Service target) names one of the app's ports, and
/// returns that port.
fn port_ref<'a>(
    field: &str,
    port: &IntOrString,
    ports: &'a [PortSpec],
    require_declared: bool,
    problems: &mut Problems,
) -> Option<&'a PortSpec> {
    match port {
        IntOrString::Int(n) => {
            check_port(problems, field, *n);
            let found = ports.iter().find(|p| p.port == *n);
            if found.is_none() && require_declared {
                problems.invalid(field, n, "must be one of the app's ports");
            }
            found
        }
        IntOrString::String(name) => {
            let found = ports.iter().find(|p| p.name.as_deref() == Some(name));
            if found.is_none() {
                problems.invalid(field, name, "must be the name of one of the app's ports");
            }
            found
        }
    }
}

fn check_probe(
    field: &str,
    which: &str,
    probe: &ProbeSpec,
    ports: &[PortSpec],
    problems: &mut Problems,
) {
    let handlers = [
        probe.http_get.is_some(),
        probe.tcp_socket.is_some(),
        probe.exec.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count();
    match handlers {
        0 => problems.push(
            field,
            validation::REQUIRED,
            "must specify a handler: one of httpGet, tcpSocket or exec",
        ),
        1 => {}
        _ => problems.forbidden(field, "may not specify more than one handler"),
    }
    if let Some(http) = &probe.http_get {
        if !http.path.starts_with('/') {
            problems.invalid(
                format!("{field}.httpGet.path"),
                &http.path,
                "must start with '/'",
            );
        }
        port_ref(
            &format!("{field}.httpGet.port"),
            &http.port,
            ports,
            false,
            problems,
        );
        if let Some(scheme) = &http.scheme
            && !["HTTP", "HTTPS"].contains(&scheme.as_str())
        {
            problems.not_supported(
                format!("{field}.httpGet.scheme"),
                scheme,
                &["HTTP", "HTTPS"],
            );
        }
    }
    if let Some(tcp) = &probe.tcp_socket {
        port_ref(
            &format!("{field}.tcpSocket.port"),
            &tcp.port,
            ports,
            false,
            problems,
        );
    }
    if let Some(exec) = &probe.exec
        && exec.command.first().is_none_or(String::is_empty)
    {
        problems.required(format!("{field}.exec.command"));
    }
    let timings = [
        ("initialDelaySeconds", probe.initial_delay_seconds, 0),
        ("periodSeconds", probe.period_seconds, 1),
        ("timeoutSeconds", probe.timeout_seconds, 1),
        ("successThreshold", probe.success_threshold, 1),
        ("failureThreshold", probe.failure_threshold, 1),
    ];
    for (name, value, min) in timings {
        if let Some(v) = value
            && v < min
        {
            problems.invalid(
                format!("{field}.{name}"),
                v,
                &format!("must be greater than or equal to {min}"),
            );
        }
    }
    if which != "readiness"
        && let Some(v) = probe.success_threshold
        && v > 1
    {
        problems.invalid(
            format!("{field}.successThreshold"),
            v,
            "must be 1 for liveness and startup probes",
        );
    }
}

fn check_env(spec: &AppSpec, problems: &mut Problems) {
    let mut seen = BTreeSet::new();
    for (i, e) in spec.env.iter().enumerate() {
        let field = format!("env[{i}]");
        if e.name.is_empty() {
            problems.required(format!("{field}.name"));
        } else if !validation::is_env_var_name(&e.name) {
            problems.invalid(
                format!("{field}.name"),
                &e.name,
                "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
            );
        } else if !seen.insert(e.name.as_str()) {
            problems.duplicate(format!("{field}.name"), &e.name);
        }
        let sources = [
            e.value.is_some(),
            e.config_map_key.is_some(),
            e.secret_key.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() > 1 {
            problems.forbidden(
                field.clone(),
                "may not specify more than one of value, configMapKey and secretKey",
            );
        }
        for (source, key_ref) in [
            ("configMapKey", &e.config_map_key),
            ("secretKey", &e.secret_key),
        ] {
            if let Some(r) = key_ref {
                problems.dns_subdomain(&format!("{field}.{source}.name"), &r.name);
                if !validation::is_config_key(&r.key) {
                    problems.invalid(
                        format!("{field}.{source}.key"),
                        &r.key,
                        "a valid key must consist of alphanumeric characters, '-', '_' or '.'",
                    );
                }
            }
        }
    }
}

fn check_int_or_percent(field: &str, value: &IntOrString, problems: &mut Problems) -> bool {
    match value {
        IntOrString::Int(n) => {
            if *n < 0 {
                problems.invalid(field, n, "must be greater than or equal to 0");
            }
            *n == 0
        }
        IntOrString::String(s) => match s.strip_suffix('%').map(str::parse::<u32>) {
            Some(Ok(p)) if p <= 100 => p == 0,
            _ => {
                problems.invalid(
                    field,
                    s,
                    "must be an integer or a percentage between 0% and 100%",
                );
                false
            }
        },
    }
}

fn check_rolling_update(spec: &AppSpec, problems: &mut Problems) {
    let Some(ru) = &spec.rolling_update else {
        return;
    };
    let unavailable_zero = ru
        .max_unavailable
        .as_ref()
        .map(|v| check_int_or_percent("rollingUpdate.maxUnavailable", v, problems));
    let surge_zero = ru
        .max_surge
        .as_ref()
        .map(|v| check_int_or_percent("rollingUpdate.maxSurge", v, problems));
    if unavailable_zero == Some(true) && surge_zero == Some(true) {
        problems.invalid(
            "rollingUpdate.maxUnavailable",
            0,
            "may not be 0 when maxSurge is 0: the rollout could never progress",
        );
    }
}

const NODE_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

fn check_scheduling(s: &SchedulingSpec, problems: &mut Problems) {
    problems.labels("scheduling.nodeSelector", &s.node_selector);
    if let Some(node) = &s.node_name {
        problems.dns_subdomain("scheduling.nodeName", node);
    }
    if let Some(affinity) = &s.affinity {
        for (t, term) in affinity.required_node_terms.iter().enumerate() {
            let field = format!("scheduling.affinity.requiredNodeTerms[{t}]");
            if term.match_expressions.is_empty() {
                problems.required(format!("{field}.matchExpressions"));
            }
            for (e, req) in term.match_expressions.iter().enumerate() {
                let field = format!("{field}.matchExpressions[{e}]");
                if !validation::is_qualified_name(&req.key) {
                    problems.invalid(format!("{field}.key"), &req.key, "must be a label key");
                }
                let values = format!("{field}.values");
                match req.operator.as_str() {
                    "In" | "NotIn" if req.values.is_empty() => problems.push(
                        values,
                        validation::REQUIRED,
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ),
                    "Exists" | "DoesNotExist" if !req.values.is_empty() => problems.forbidden(
                        values,
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ),
                    "Gt" | "Lt"
                        if req.values.len() != 1 || req.values[0].parse::<i64>().is_err() =>
                    {
                        problems.invalid(
                            values,
                            req.values.join(","),
                            "must be a single integer when `operator` is 'Gt' or 'Lt'",
                        )
                    }
                    op if !NODE_OPERATORS.contains(&op) => {
                        problems.not_supported(format!("{field}.operator"), op, NODE_OPERATORS)
                    }
                    _ => {}
                }
            }
        }
    }
    for (i, t) in s.tolerations.iter().enumerate() {
        let field = format!("scheduling.tolerations[{i}]");
        let key = t.key.as_deref().unwrap_or_default();
        if !key.is_empty() && !validation::is_qualified_name(key) {
            problems.invalid(format!("{field}.key"), key, "must be a label key");
        }
        match t.operator.as_deref().unwrap_or("Equal") {
            "Equal" if key.is_empty() => problems.push(
                format!("{field}.key"),
                validation::REQUIRED,
                "must be specified when `operator` is 'Equal'",
            ),
            "Exists" if t.value.as_deref().is_some_and(|v| !v.is_empty()) => problems.forbidden(
                format!("{field}.value"),
                "must be empty when `operator` is 'Exists'",
            ),
            "Equal" | "Exists" => {}
            op => problems.not_supported(format!("{field}.operator"), op, &["Equal", "Exists"]),
        }
        if let Some(effect) = &t.effect
            && !TAINT_EFFECTS.contains(&effect.as_str())
        {
            problems.not_supported(format!("{field}.effect"), effect, TAINT_EFFECTS);
        }
        if t.toleration_seconds.is_some() && t.effect.as_deref() != Some("NoExecute") {
            problems.forbidden(
                format!("{field}.tolerationSeconds"),
                "only applies to the 'NoExecute' effect",
            );
        }
    }
}

fn check_items(field: &str, items: &[super::KeyToPathSpec], problems: &mut Problems) {
    let mut paths = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        if !validation::is_config_key(&item.key) {
            problems.invalid(
                format!("{field}.items[{i}].key"),
                &item.key,
                "a valid key must consist of alphanumeric characters, '-', '_' or '.'",
            );
        }
        let path_field = format!("{field}.items[{i}].path");
        if !validation::is_clean_relative_path(&item.path) {
            problems.invalid(
                &path_field,
                &item.path,
                "must be a relative path without '..'",
            );
        } else if !paths.insert(item.path.as_str()) {
            problems.duplicate(path_field, &item.path);
        }
    }
}

/// Normalizes a mount path so `/data` and `/data/` are seen as the same mount.
fn mount_key(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn check_volumes(volumes: &[VolumeSpec], problems: &mut Problems) {
    let mut names = BTreeSet::new();
    let mut mounts = BTreeMap::new();
    for (i, v) in volumes.iter().enumerate() {
        let field = format!("volumes[{i}]");
        if v.name.is_empty() {
            problems.required(format!("{field}.name"));
        } else {
            problems.dns_label(&format!("{field}.name"), &v.name);
            if !names.insert(v.name.as_str()) {
                problems.duplicate(format!("{field}.name"), &v.name);
            }
        }
        let mount_field = format!("{field}.mountPath");
        if v.mount_path.is_empty() {
            problems.required(mount_field);
        } else if !validation::is_clean_absolute_path(&v.mount_path) {
            problems.invalid(
                mount_field,
                &v.mount_path,
                "must be an absolute path without '..'",
            );
        } else if let Some(other) = mounts.insert(mount_key(&v.mount_path), i) {
            problems.invalid(
                mount_field,
                &v.mount_path,
                &format!("must be unique: volumes[{other}] is mounted there already"),
            );
        }
        if let Some(sub) = &v.sub_path
            && !validation::is_clean_relative_path(sub)
        {
            problems.invalid(
                format!("{field}.subPath"),
                sub,
                "must be a relative path without '..'",
            );
        }
        let sources = [
            v.config_map.is_some(),
            v.secret.is_some(),
            v.persistent_volume_claim.is_some(),
            v.empty_dir.is_some(),
            v.host_path.is_some(),
        ]
        .into_iter()
        .filter(|s| *s)
        .count();
        match sources {
            0 => problems.push(
                field.clone(),
                validation::REQUIRED,
                "must specify a volume source: one of configMap, secret, persistentVolumeClaim, emptyDir or hostPath",
            ),
            1 => {}
            _ => problems.forbidden(field.clone(), "may not specify more than one volume source"),
        }
        if let Some(cm) = &v.config_map {
            problems.dns_subdomain(&format!("{field}.configMap.name"), &cm.name);
            check_items(&format!("{field}.configMap"), &cm.items, problems);
        }
        if let Some(secret) = &v.secret {
            problems.dns_subdomain(&format!("{field}.secret.secretName"), &secret.secret_name);
            check_items(&format!("{field}.secret"), &secret.items, problems);
        }
        if let Some(pvc) = &v.persistent_volume_claim {
            problems.dns_subdomain(
                &format!("{field}.persistentVolumeClaim.claimName"),
                &pvc.claim_name,
            );
        }
        if let Some(dir) = &v.empty_dir {
            if let Some(medium) = &dir.medium
                && !["", "Memory"].contains(&medium.as_str())
            {
                problems.not_supported(format!("{field}.emptyDir.medium"), medium, &["", "Memory"]);
            }
            if let Some(size) = &dir.size_limit {
                let size_field = format!("{field}.emptyDir.sizeLimit");
                if problems.bytes(&size_field, size).is_some_and(|b| b < 0) {
                    problems.invalid(size_field, size, "must be greater than or equal to 0");
                }
            }
        }
        if let Some(host) = &v.host_path {
            if !validation::is_clean_absolute_path(&host.path) {
                problems.invalid(
                    format!("{field}.hostPath.path"),
                    &host.path,
                    "must be an absolute path without '..'",
                );
            }
            if let Some(t) = &host.type_
                && !validation::HOST_PATH_TYPES.contains(&t.as_str())
            {
                problems.not_supported(
                    format!("{field}.hostPath.type"),
                    t,
                    validation::HOST_PATH_TYPES,
                );
            }
        }
    }
}

fn check_service(service: &ServiceSpec, ports: &[PortSpec], problems: &mut Problems) {
    if service.ports.is_empty() {
        problems.required("service.ports");
    }
    let mut seen_ports = BTreeSet::new();
    let mut seen_names = BTreeSet::new();
    let mut seen_node_ports = BTreeSet::new();
    for (i, sp) in service.ports.iter().enumerate() {
        let field = format!("service.ports[{i}]");
        check_port(problems, &format!("{field}.port"), sp.port);
        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
        let target_field = if sp.target_port.is_some() {
            format!("{field}.targetPort")
        } else {
            format!("{field}.port")
        };
        let container_port = port_ref(&target_field, &target, ports, true, problems);
        let protocol = container_port.map(|p| p.protocol).unwrap_or_default();
        if !seen_ports.insert((sp.port, protocol)) {
            problems.duplicate(format!("{field}.port"), sp.port);
        }
        let name = super::build::service_port_name(sp, container_port);
        if sp.name.is_some() && !crate::names::is_dns1123_label(&name) {
            problems.dns_label(&format!("{field}.name"), &name);
        } else if !seen_names.insert(name.clone()) {
            problems.duplicate(format!("{field}.name"), name);
        }
        if let Some(node_port) = sp.node_port {
            let node_field = format!("{field}.nodePort");
            if service.type_ != ServiceType::NodePort {
                problems.forbidden(node_field, "may only be set on a NodePort Service");
            } else if !NODE_PORT_RANGE.contains(&node_port) {
                problems.invalid(
                    node_field,
                    node_port,
                    "must be in the node port range 30000-32767",
                );
            } else if !seen_node_ports.insert(node_port) {
                problems.duplicate(node_field, node_port);
            }
        }
    }
}
