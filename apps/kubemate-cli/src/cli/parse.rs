//! Parsers of the values the command line takes: role rules, quotas, container limits,
//! workload kinds and label selectors. They run while the command line is parsed, so bad
//! input fails before anything is sent.

use kubemate_core::{
    catalog, quantity,
    selector::LabelSelector,
    tenant::{LimitsSpec, QuotaSpec},
    workload::WorkloadKind,
};
use kubemate_rbac::Rule;

/// The verbs a rule may name (Kubernetes' resource verbs), or `*`.
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

const WILDCARD: &str = "*";
/// How the core API group (`""`) is written in a rule.
const CORE: &str = "core";

/// The rules of one `--rule VERBS:RESOURCES`: one rule per API group, so that a rule over
/// `deployments,pods` grants apps/deployments and core pods, not apps/pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleArg(pub Vec<Rule>);

fn resource_name_ok(s: &str) -> bool {
    !s.is_empty()
        && (s == WILDCARD
            || s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'))
}

/// `(group, resource)` of one RESOURCES entry.
fn resource(entry: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = entry.split('/').collect();
    let known = |name: &str| catalog::find(name).map(|k| (k.group.to_owned(), k.plural));
    let (group, resource, sub) = match parts.as_slice() {
        [WILDCARD] => return Ok((WILDCARD.to_owned(), WILDCARD.to_owned())),
        [name] => match known(name) {
            Some((group, plural)) => (group, plural.to_owned(), None),
            None => {
                return Err(format!(
                    "unknown resource \"{name}\": name one Kubemate knows (deployments, pods, \
                     svc, ...) or give its API group as GROUP/RESOURCE"
                ));
            }
        },
        [WILDCARD, sub] => (WILDCARD.to_owned(), WILDCARD.to_owned(), Some(*sub)),
        [first, second] => match known(first) {
            Some((group, plural)) => (group, plural.to_owned(), Some(*second)),
            None => ((*first).to_owned(), (*second).to_owned(), None),
        },
        [group, resource, sub] => ((*group).to_owned(), (*resource).to_owned(), Some(*sub)),
        _ => return Err(format!("\"{entry}\" has too many '/'")),
    };
    let group = if group == CORE { String::new() } else { group };
    if !(group.is_empty() || resource_name_ok(&group)) {
        return Err(format!("\"{entry}\": bad API group \"{group}\""));
    }
    if !resource_name_ok(&resource) || sub.is_some_and(|s| !resource_name_ok(s)) {
        return Err(format!(
            "\"{entry}\": resources are lowercase plurals (or *), e.g. deployments or pods/log"
        ));
    }
    Ok(match sub {
        Some(sub) => (group, format!("{resource}/{sub}")),
        None => (group, resource),
    })
}

/// Parses `VERBS:RESOURCES` (see `kubemate role create --help`).
pub fn rule(s: &str) -> Result<RuleArg, String> {
    let Some((verbs, resources)) = s.split_once(':') else {
        return Err(format!(
            "\"{s}\" is not VERBS:RESOURCES (e.g. get,list:deployments,pods)"
        ));
    };
    let verbs: Vec<String> = verbs.split(',').map(|v| v.trim().to_owned()).collect();
    if let Some(bad) = verbs
        .iter()
        .find(|v| v.as_str() != WILDCARD && !VERBS.contains(&v.as_str()))
    {
        return Err(format!(
            "unknown verb \"{bad}\" (expected {} or *)",
            VERBS.join(", ")
        ));
    }
    let mut by_group: Vec<(String, Vec<String>)> = Vec::new();
    for entry in resources.split(',').map(str::trim) {
        if entry.is_empty() {
            return Err(format!("\"{s}\": an empty resource"));
        }
        let (group, resource) = resource(entry)?;
        match by_group.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) if list.contains(&resource) => {}
            Some((_, list)) => list.push(resource),
            None => by_group.push((group, vec![resource])),
        }
    }
    Ok(RuleArg(
        by_group
            .into_iter()
            .map(|(group, resources)| Rule {
                verbs: verbs.clone(),
                api_groups: vec![group],
                resources,
            })
            .collect(),
    ))
}

/// A rule in the `VERBS:RESOURCES` syntax, for listings.
pub fn format_rule(rule: &Rule) -> String {
    let mut entries = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            let bare = group.is_empty()
                && catalog::find(resource.split('/').next().unwrap_or_default())
                    .is_some_and(|k| k.group.is_empty());
            entries.push(match group.as_str() {
                _ if bare => resource.clone(),
                WILDCARD if resource == WILDCARD || resource.starts_with("*/") => resource.clone(),
                "" => format!("{CORE}/{resource}"),
                g => format!("{g}/{resource}"),
            });
        }
    }
    format!("{}:{}", rule.verbs.join(","), entries.join(","))
}

fn pairs(s: &str) -> Result<Vec<(&str, &str)>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("\"{p}\" is not KEY=VALUE"))
        })
        .collect()
}

fn quantity(key: &str, value: &str) -> Result<String, String> {
    if value.starts_with('-') {
        return Err(format!("{key}: \"{value}\" must not be negative"));
    }
    quantity::parse(key, value).map_err(|e| e.message().to_owned())?;
    Ok(value.to_owned())
}

fn count(key: &str, value: &str) -> Result<i64, String> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("{key}: \"{value}\" is not a count (a whole number, 0 or more)"))
}

/// Parses `--quota` items: `cpu=4,memory=8Gi,pods=20`.
pub fn quota(s: &str) -> Result<QuotaSpec, String> {
    let mut q = QuotaSpec::default();
    for (key, value) in pairs(s)? {
        match key {
            "cpu" | "requests.cpu" => q.requests_cpu = Some(quantity(key, value)?),
            "memory" | "requests.memory" => q.requests_memory = Some(quantity(key, value)?),
            "limits.cpu" => q.limits_cpu = Some(quantity(key, value)?),
            "limits.memory" => q.limits_memory = Some(quantity(key, value)?),
            "storage" | "requests.storage" => q.requests_storage = Some(quantity(key, value)?),
            "pods" => q.pods = Some(count(key, value)?),
            "services" => q.services = Some(count(key, value)?),
            "persistentvolumeclaims" | "pvc" => {
                q.persistent_volume_claims = Some(count(key, value)?);
            }
            "configmaps" => q.config_maps = Some(count(key, value)?),
            "secrets" => q.secrets = Some(count(key, value)?),
            other => {
                return Err(format!(
                    "unknown quota \"{other}\" (expected cpu, memory, limits.cpu, limits.memory, \
                     storage, pods, services, persistentvolumeclaims, configmaps, secrets)"
                ));
            }
        }
    }
    if q == QuotaSpec::default() {
        return Err("an empty quota".to_owned());
    }
    Ok(q)
}

/// Parses `--limits` items: `default-request.cpu=100m,default.memory=256Mi,max.cpu=2`.
pub fn limits(s: &str) -> Result<LimitsSpec, String> {
    let mut l = LimitsSpec::default();
    for (key, value) in pairs(s)? {
        let (side, resource) = key
            .rsplit_once('.')
            .ok_or_else(|| format!("\"{key}\" is not SIDE.RESOURCE (e.g. default.memory)"))?;
        let cm = match side {
            "default-request" | "request" => &mut l.default_request,
            "default" | "default-limit" | "limit" => &mut l.default_limit,
            "min" => &mut l.min,
            "max" => &mut l.max,
            other => {
                return Err(format!(
                    "unknown limit \"{other}\" (expected default-request, default, min or max)"
                ));
            }
        };
        let slot = match resource {
            "cpu" => &mut cm.cpu,
            "memory" => &mut cm.memory,
            other => {
                return Err(format!(
                    "unknown resource \"{other}\" (expected cpu or memory)"
                ));
            }
        };
        *slot = Some(quantity(key, value)?);
    }
    if l == LimitsSpec::default() {
        return Err("empty limits".to_owned());
    }
    Ok(l)
}

/// Parses a workload kind as kubectl names it (`deployment`, `deploy`, `sts`, ...).
pub fn workload_kind(s: &str) -> Result<WorkloadKind, String> {
    WorkloadKind::parse(s).map_err(|e| e.message().to_owned())
}

/// Checks a label selector (`app=web,tier in (a,b)`).
pub fn label_selector(s: &str) -> Result<String, String> {
    LabelSelector::parse(s)
        .map(|_| s.to_owned())
        .map_err(|e| e.message().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(s: &str) -> Vec<(Vec<String>, String, Vec<String>)> {
        rule(s)
            .expect(s)
            .0
            .into_iter()
            .map(|r| (r.verbs, r.api_groups.concat(), r.resources))
            .collect()
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn rules_split_by_api_group_from_the_catalog() {
        assert_eq!(
            rules("get,list:deployments,pods,deploy"),
            vec![
                (v(&["get", "list"]), "apps".into(), v(&["deployments"])),
                (v(&["get", "list"]), String::new(), v(&["pods"])),
            ]
        );
        assert_eq!(
            rules("get:pods/log,deployments/scale"),
            vec![
                (v(&["get"]), String::new(), v(&["pods/log"])),
                (v(&["get"]), "apps".into(), v(&["deployments/scale"])),
            ]
        );
        assert_eq!(
            rules("*:example.com/widgets,core/pods,apps/*"),
            vec![
                (v(&["*"]), "example.com".into(), v(&["widgets"])),
                (v(&["*"]), String::new(), v(&["pods"])),
                (v(&["*"]), "apps".into(), v(&["*"])),
            ]
        );
        assert_eq!(rules("get:*"), vec![(v(&["get"]), "*".into(), v(&["*"]))]);
        assert_eq!(
            rules("update:*/scale"),
            vec![(v(&["update"]), "*".into(), v(&["*/scale"]))]
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for (input, expected) in [
            ("get,list", "not VERBS:RESOURCES"),
            ("fly:pods", "unknown verb \"fly\""),
            ("get:gadgets", "unknown resource \"gadgets\""),
            ("get:pods,", "an empty resource"),
            ("get:Apps/Deployments", "bad API group"),
            ("get:a/b/c/d", "too many '/'"),
        ] {
            let err = rule(input).expect_err(input);
            assert!(err.contains(expected), "{input}: {err}");
        }
    }

    #[test]
    fn rules_print_back_in_the_same_syntax() {
        for s in [
            "get,list:deployments",
            "get:pods,pods/log",
            "*:example.com/widgets",
            "get:*",
            "update:*/scale",
        ] {
            let parsed = rule(s).expect(s).0;
            let printed: Vec<String> = parsed.iter().map(format_rule).collect();
            let again: Vec<Rule> = printed.iter().flat_map(|p| rule(p).expect(p).0).collect();
            assert_eq!(again, parsed, "{s} -> {printed:?}");
        }
        assert_eq!(
            format_rule(&Rule::new(&["get"], &["apps"], &["deployments"])),
            "get:apps/deployments"
        );
    }

    #[test]
    fn quotas_and_limits_parse_kubectl_style() {
        let q = quota("cpu=4,memory=8Gi,pods=20,limits.cpu=8,pvc=3").expect("quota");
        assert_eq!(q.requests_cpu.as_deref(), Some("4"));
        assert_eq!(q.requests_memory.as_deref(), Some("8Gi"));
        assert_eq!(q.limits_cpu.as_deref(), Some("8"));
        assert_eq!(q.pods, Some(20));
        assert_eq!(q.persistent_volume_claims, Some(3));
        for (input, expected) in [
            ("cpu", "not KEY=VALUE"),
            ("cpu=lots", "cpu"),
            ("pods=-1", "not a count"),
            ("memory=-1Gi", "must not be negative"),
            ("gpus=1", "unknown quota \"gpus\""),
            ("", "an empty quota"),
        ] {
            let err = quota(input).expect_err(input);
            assert!(err.contains(expected), "{input}: {err}");
        }
        let l = limits("default-request.cpu=100m,default.memory=256Mi,max.cpu=2").expect("limits");
        assert_eq!(l.default_request.cpu.as_deref(), Some("100m"));
        assert_eq!(l.default_limit.memory.as_deref(), Some("256Mi"));
        assert_eq!(l.max.cpu.as_deref(), Some("2"));
        assert!(
            limits("cpu=1")
                .expect_err("no side")
                .contains("SIDE.RESOURCE")
        );
        assert!(
            limits("max.gpu=1")
                .expect_err("gpu")
                .contains("cpu or memory")
        );
        assert!(
            limits("top.cpu=1")
                .expect_err("side")
                .contains("unknown limit")
        );
    }

    #[test]
    fn workload_kinds_and_selectors_are_checked() {
        assert_eq!(workload_kind("deploy"), Ok(WorkloadKind::Deployment));
        assert!(workload_kind("service").is_err());
        assert!(label_selector("app=web,tier in (a,b)").is_ok());
        assert!(label_selector("app in (a").is_err());
    }
}
