//! Kubernetes checks on where data goes: SaaS endpoints in env vars and
//! ConfigMaps, node placement, plain-text secrets, Ingress TLS and personal-data workloads.

use super::{Check, Elsewhere, Hit};
use crate::engine::{Context, Standing};
use crate::extract::alertmanager::{self, How, Target};
use crate::extract::kubernetes::{Placement, containers, placements};
use crate::finding::Severity;
use crate::knowledge::hosts::host_of;
use crate::knowledge::{DataRegion, HostMatch};
use crate::model::Resource;
use crate::tree::{Node, Route};

pub static CHECKS: &[(&str, Check)] = &[
    (
        "saas_endpoint_outside_eu",
        Check::Resource(saas_endpoint_outside_eu),
    ),
    (
        "placement_outside_eu",
        Check::Resource(placement_outside_eu),
    ),
    ("secret_in_plain_env", Check::Resource(secret_in_plain_env)),
    ("ingress_without_tls", Check::Resource(ingress_without_tls)),
    (
        "personal_data_outside_eu",
        Check::Resource(personal_data_outside_eu),
    ),
];

/// Where the data behind an endpoint sits: `Ok(None)` inside (the EU/EEA, a country the
/// settings allow, an adequacy country under profile `adequacy`), `Ok(Some(place))` outside or
/// not provably inside, `Err(())` when nothing is known (no finding).
pub(crate) fn place_outside_eu(ctx: &Context, m: &HostMatch) -> Result<Option<Elsewhere>, ()> {
    let kb = ctx.kb;
    match &m.data_region {
        DataRegion::Eu => Ok(None),
        DataRegion::Country(c) => Ok(match ctx.standing_of(c) {
            Standing::Inside => None,
            standing => Some(Elsewhere {
                text: format!("{c} ({})", kb.jurisdiction_of(c).as_str()),
                adequacy: standing == Standing::Adequacy,
            }),
        }),
        DataRegion::Region(r) => {
            let resolved = match &m.provider {
                Some(p) => kb.resolve_region(p, r),
                None => kb.resolve_region_any(r),
            };
            match resolved {
                Some(info) => {
                    let text = format!("{} in {}", r, info.countries.join("+"));
                    Ok(match ctx.standing_of_all(&info.countries) {
                        Some(Standing::Inside) => None,
                        Some(Standing::Adequacy) => Some(Elsewhere {
                            text,
                            adequacy: true,
                        }),
                        // No country: not provably inside.
                        Some(Standing::Outside) | None => Some(Elsewhere::outside(text)),
                    })
                }
                None => Ok(Some(Elsewhere::outside(format!("unknown location {r:?}")))),
            }
        }
        DataRegion::Global => Ok(Some(Elsewhere::outside(
            "a global network, not pinned to the EU",
        ))),
        DataRegion::Unknown => Err(()),
    }
}

/// A value sent somewhere outside the EU, found in an env var or ConfigMap.
struct Destination {
    route: Route,
    node_line_offset: u32,
    multiline: bool,
    vendor: String,
    host: String,
    place: Elsewhere,
    eu_alternative: Option<String>,
}

fn classify_value(
    ctx: &Context,
    name: &str,
    value: &str,
) -> Option<(String, String, Elsewhere, Option<String>)> {
    // Variables whose value is a site id rather than a URL (DD_SITE=datadoghq.com).
    for spec in &ctx.kb.env_vars {
        if (spec.name == name || spec.also.iter().any(|a| a == name)) && !spec.values.is_empty() {
            let region = spec.values.get(value.trim())?;
            let standing = ctx.standing_of(region);
            if region == "EU" || standing == Standing::Inside {
                return None;
            }
            let vendor = spec.vendor.clone().unwrap_or_default();
            let alt = spec
                .values
                .iter()
                .find(|(_, r)| r.as_str() == "EU")
                .map(|(site, _)| site.clone());
            let place = Elsewhere {
                text: region.clone(),
                adequacy: standing == Standing::Adequacy,
            };
            return Some((vendor, value.trim().to_string(), place, alt));
        }
    }
    let host = host_of(value)?;
    let m = ctx.kb.hosts.endpoint(&host)?;
    let place = place_outside_eu(ctx, &m).ok()??;
    Some((m.vendor.clone(), host, place, m.eu_alternative.clone()))
}

fn destinations(ctx: &Context, resource: &Resource) -> Vec<Destination> {
    let mut out = Vec::new();
    for (route, container) in containers(resource) {
        let mut has_dd_key = None;
        let mut has_dd_site = false;
        for (i, env) in container
            .get("env")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let name = env.get("name").and_then(Node::as_str).unwrap_or_default();
            if name == "DD_SITE" {
                has_dd_site = true;
            }
            if name == "DD_API_KEY" {
                has_dd_key = Some(route.key("env").index(i).key("name"));
            }
            let Some(value) = env.get("value").and_then(Node::as_str) else {
                continue;
            };
            if let Some((vendor, host, place, eu_alternative)) = classify_value(ctx, name, value) {
                out.push(Destination {
                    route: route.key("env").index(i).key("value"),
                    node_line_offset: 0,
                    multiline: false,
                    vendor,
                    host,
                    place,
                    eu_alternative,
                });
            }
        }
        // The Datadog agent sends to datadoghq.com (US1) when DD_SITE is not set.
        if let (Some(key_route), false) = (has_dd_key, has_dd_site) {
            out.push(Destination {
                route: key_route,
                node_line_offset: 0,
                multiline: false,
                vendor: "Datadog".into(),
                host: "datadoghq.com (default: DD_SITE not set)".into(),
                place: Elsewhere::outside("US (third-country)"),
                eu_alternative: Some("DD_SITE=datadoghq.eu".into()),
            });
        }
    }
    // Where an Alertmanager sends its notifications, written or by default.
    for endpoint in alertmanager::endpoints(resource) {
        let Target::Url { url, how } = &endpoint.target else {
            continue;
        };
        let Some((vendor, host, place, eu_alternative)) = classify_value(ctx, "", url) else {
            continue;
        };
        let host = match how {
            How::Written => host,
            How::Global(key) => format!("{host} (global {key})"),
            How::Default => format!("{host} (default of {})", endpoint.list),
        };
        out.push(Destination {
            route: endpoint.route,
            node_line_offset: endpoint.line_in_text.unwrap_or(0),
            multiline: endpoint.line_in_text.is_some(),
            vendor,
            host,
            place,
            eu_alternative,
        });
    }
    if resource.kind == "ConfigMap" {
        for entry in resource
            .body
            .get("data")
            .map(Node::entries)
            .unwrap_or_default()
        {
            let Some(text) = entry.value.as_str() else {
                continue;
            };
            // An Alertmanager configuration is read as one, above (listed as not evaluated
            // when it does not parse).
            if alertmanager::CONFIG_KEYS.contains(&entry.key.as_str()) {
                continue;
            }
            // Built for the entries that name a destination only.
            let mut route = None;
            let multiline = text.contains('\n');
            // A block scalar's node may start on its `|` line or on its first content line.
            let first_line_offset =
                u32::from(entry.value.span.start.line == entry.key_span.start.line);
            for (line_index, line) in text.lines().enumerate() {
                // A comment (`# see https://…`, `// …`, `; …`) names a page, not a destination.
                if is_comment_line(line) {
                    continue;
                }
                for token in line.split(|c: char| {
                    c.is_whitespace()
                        || matches!(
                            c,
                            '"' | '\'' | ',' | '=' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>'
                        )
                }) {
                    let token = token.trim_end_matches([';', ':']);
                    if !token.contains('.') {
                        continue;
                    }
                    let key_name = if multiline { "" } else { entry.key.as_str() };
                    if let Some((vendor, host, place, eu_alternative)) =
                        classify_value(ctx, key_name, token)
                    {
                        out.push(Destination {
                            route: route
                                .get_or_insert_with(|| Route::root().key("data").key(&entry.key))
                                .clone(),
                            node_line_offset: if multiline {
                                u32::try_from(line_index).unwrap_or(0) + first_line_offset
                            } else {
                                0
                            },
                            multiline,
                            vendor,
                            host,
                            place,
                            eu_alternative,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Whether a line of a configuration file is a comment in the formats ConfigMaps hold (YAML,
/// shell, INI, properties, TOML: `#`; JSON5 and JavaScript: `//`; INI: `;`).
fn is_comment_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('#') || line.starts_with("//") || line.starts_with(';')
}

fn saas_hit(resource: &Resource, d: &Destination) -> Option<Hit> {
    let node = resource.body.at(&d.route)?;
    let mut location = resource.locate(node, &d.route);
    if d.node_line_offset > 0 || d.multiline {
        location.start_line += d.node_line_offset;
        location.end_line = location.start_line;
    }
    Some(
        Hit::at(location)
            .var("vendor", d.vendor.clone())
            .var("host", d.host.clone())
            .var("place", d.place.text.clone())
            .var(
                "eu_endpoint",
                d.eu_alternative.clone().map_or_else(
                    || "no EU endpoint of this vendor is known".into(),
                    |a| format!("EU option: {a}"),
                ),
            )
            .evidence(d.host.clone())
            .key(d.host.clone()),
    )
}

fn saas_endpoint_outside_eu(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    hits.extend(
        destinations(ctx, resource)
            .iter()
            .filter_map(|d| Some(d.place.judge(saas_hit(resource, d)?))),
    );
    connector_hits(ctx, resource, hits);
}

/// Containers of an image that only carries data to one vendor (Cloudflare's `cloudflared`,
/// `connector_images` in the knowledge), wherever the image is written: a workload, a
/// HelmRelease's values.
fn connector_hits(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if ctx.kb.connector_images.is_empty() {
        return;
    }
    for reference in super::image_references::references(resource) {
        if reference.host_only {
            continue;
        }
        let Some(connector) = ctx
            .kb
            .connector_images
            .iter()
            .find(|c| is_repository(&reference.text, &c.repository))
        else {
            continue;
        };
        let Some(m) = ctx.kb.hosts.endpoint(&connector.host) else {
            continue;
        };
        let Ok(Some(place)) = place_outside_eu(ctx, &m) else {
            continue;
        };
        let hit = Hit::at(reference.location.clone())
            .var("vendor", m.vendor.clone())
            .var("host", connector.does.clone())
            .var("place", place.text.clone())
            .var(
                "eu_endpoint",
                m.eu_alternative.clone().map_or_else(
                    || "no EU endpoint of this vendor is known".into(),
                    |a| format!("EU option: {a}"),
                ),
            )
            .evidence(reference.text.clone())
            .key(connector.repository.clone());
        hits.push(place.judge(hit));
    }
}

/// Whether an image reference (`mirror.gcr.io/cloudflare/cloudflared:2026.8.2@sha256:…`) is
/// of a repository (`cloudflare/cloudflared`): its path without registry, tag and digest is
/// the repository or ends with it (a mirror or proxy that keeps it).
fn is_repository(reference: &str, repository: &str) -> bool {
    let name = reference.trim().split('@').next().unwrap_or_default();
    let name = match (name.rfind(':'), name.rfind('/')) {
        (Some(colon), Some(slash)) if colon > slash => &name[..colon],
        (Some(colon), None) => &name[..colon],
        _ => name,
    };
    name == repository
        || name
            .strip_suffix(repository)
            .is_some_and(|rest| rest.ends_with('/'))
}

/// Placements outside the EU/EEA with how their countries stand (`Context::standing_of_all`);
/// with `include_unknown`, also values no knowledge-base entry resolves, standing `None` (an
/// unknown location is never assumed to be fine).
fn placement_hits(
    ctx: &Context,
    resource: &Resource,
    include_unknown: bool,
) -> Vec<(Hit, Option<Standing>)> {
    let mut hits = Vec::new();
    for Placement {
        route,
        node,
        value,
        provider,
    } in placements(ctx.kb, resource)
    {
        // Filled in when the manifest is rendered (`${ZONE}`, `{{ .Values.zone }}`).
        if crate::extract::kubernetes::is_unfilled(&value) {
            continue;
        }
        let resolved = match provider {
            Some(provider) => ctx.kb.resolve_region(provider, &value),
            None => ctx.kb.resolve_region_any(&value),
        };
        let (place, standing) = match resolved {
            Some(info) => match ctx.standing_of_all(&info.countries) {
                None | Some(Standing::Inside) => continue,
                standing => (info.countries.join("+"), standing),
            },
            None if include_unknown => ("a location sovscan does not know".to_string(), None),
            None => continue,
        };
        let how = match resource.kind.as_str() {
            "StorageClass" => "its allowed topologies",
            "PersistentVolume" => "its node affinity",
            _ => "a node selector or node affinity",
        };
        let hit = Hit::at(resource.locate(node, &route))
            .var("how", how)
            .var("value", value.clone())
            .var("place", place)
            .evidence(value.clone())
            .key(value.clone());
        hits.push((hit, standing));
    }
    hits
}

/// RES-008: the rule's severity, high for a workload labelled as personal data; an adequacy
/// country low (medium when labelled), as RES-002 reports a resource located there; an unknown
/// location low.
fn placement_outside_eu(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let personal = ctx.is_personal_data(resource);
    hits.extend(
        placement_hits(ctx, resource, true)
            .into_iter()
            .map(|(hit, standing)| match (standing, personal) {
                (Some(Standing::Adequacy), true) => hit.severity(Severity::Medium),
                (Some(Standing::Outside), true) => hit.severity(Severity::High),
                (Some(Standing::Outside), false) => hit,
                _ => hit.severity(Severity::Low),
            }),
    );
}

fn personal_data_outside_eu(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if !ctx.is_personal_data(resource) {
        return;
    }
    for (hit, _) in placement_hits(ctx, resource, false) {
        hits.push(hit.var("how", "is scheduled onto nodes in"));
    }
    super::cloud_residency::personal_data_location(ctx, resource, hits);
    for d in destinations(ctx, resource) {
        if let Some(hit) = saas_hit(resource, &d) {
            let place = d.place.text.clone();
            hits.push(
                hit.var("how", format!("sends data to {} in", d.vendor))
                    .var("place", place),
            );
        }
    }
}

const SECRET_NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
    "CLIENT_SECRET",
    "LICENSE_KEY",
    "DSN",
];

/// Names that mention a secret but hold its settings, not the secret itself.
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_NAME",
    "_URL",
    "_HOST",
    "_PORT",
    "_ENDPOINT",
    "_TTL",
    "_TIMEOUT",
    "_EXPIRY",
    "_EXPIRATION",
    "_LIFETIME",
    "_LENGTH",
    "_SIZE",
    "_ENABLED",
    "_HEADER",
    "_TYPE",
    "_REGION",
    "_ALGORITHM",
    "_ISSUER",
    "_AUDIENCE",
    "_REF",
    // The identifier or version of a secret kept elsewhere (a secret manager's SECRET_ID and
    // SECRET_VERSION, an access key's id), not its value.
    "_ID",
    "_VERSION",
    "_POLICY",
];

/// Keys of connection-string parts that hold the credential itself (ADO.NET/SQL Server `Password=`
/// and `Pwd=`, JDBC `?password=`, Azure Storage `AccountKey=`, Service Bus/Event Hubs
/// `SharedAccessKey=`), compared lower-case and without spaces.
const CONNECTION_SECRET_KEYS: &[&str] = &[
    "password",
    "pwd",
    "passwd",
    "accountkey",
    "sharedaccesskey",
    "sharedaccesssignature",
];

/// A value that stands for a credential without being one: a reference or template.
fn is_reference(value: &str) -> bool {
    value.starts_with("$(")
        || value.starts_with("${")
        || value.starts_with("{{")
        || value.starts_with("#{")
        || value.starts_with('<')
        || value.eq_ignore_ascii_case("changeme")
}

/// A value left to be filled in, not a credential: a word (letters, digits, `_`, `-`) that
/// is the variable's own name, bare or marked as a value to give (`GOOGLE_API_KEY:
/// GOOGLE_API_KEY_VAL`, `API_TOKEN: YOUR_API_TOKEN`), starts by asking for one
/// (`your-api-key`, `INSERT_ETCD_DISCOVERY_TOKEN`, `enter-your-key`), or says it is a
/// placeholder (`REPLACE_ME`, `PLACEHOLDER`).
fn is_placeholder(name: &str, value: &str) -> bool {
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return false;
    }
    let value = value.to_ascii_uppercase().replace('-', "_");
    let name = name.to_ascii_uppercase().replace('-', "_");
    let names_itself = value.split_once(&name).is_some_and(|(before, after)| {
        let rest = format!("{before}{after}");
        ["", "VAL", "VALUE", "HERE", "YOUR", "MY"].contains(&rest.trim_matches('_'))
    });
    (name.len() >= 4 && names_itself)
        || [
            "YOUR_",
            "INSERT_",
            "ENTER_",
            "FILL_IN",
            "PUT_YOUR_",
            "ADD_YOUR_",
        ]
        .iter()
        .any(|p| value.starts_with(p))
        || ["REPLACE_ME", "REPLACEME", "PLACEHOLDER"]
            .iter()
            .any(|p| value.contains(p))
}

/// Does a connection string (`Server=db;User Id=sa;Password=…`, `jdbc:…?password=…`,
/// `AccountKey=…`) carry a credential written in it?
fn connection_string_secret(value: &str) -> bool {
    if !value.contains('=') {
        return false;
    }
    // The storage emulator's account key is published in its documentation.
    let emulator = value
        .to_ascii_lowercase()
        .contains("accountname=devstoreaccount1");
    value.split([';', '&', '?']).any(|part| {
        let Some((key, secret)) = part.split_once('=') else {
            return false;
        };
        let key: String = key
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        // The key may follow other text on its line (`"Default": "Server=…`).
        let key = key
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .next()
            .unwrap_or_default();
        let secret = secret
            .trim()
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
            .next()
            .unwrap_or_default();
        // `$NAME` and `%NAME%` are shell and template variables in scripts held by ConfigMaps.
        let variable = (secret.starts_with('$') || secret.starts_with('%'))
            && secret
                .chars()
                .nth(1)
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '(' || c == '{');
        // Fill-in markers of templates and tutorials (`YOUR_KEY_HERE`, `CHANGE_ME`).
        let marker = secret.contains('_')
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
        CONNECTION_SECRET_KEYS.contains(&key)
            && secret.len() >= 4
            && !is_reference(secret)
            && !variable
            && !marker
            && (!emulator || key != "accountkey")
    })
}

/// A URL with `user:password@` in it.
fn url_with_password(value: &str) -> bool {
    value.contains("://")
        && value.split("://").skip(1).any(|rest| {
            rest.split('/')
                .next()
                .is_some_and(|auth| auth.contains(':') && auth.contains('@'))
        })
}

/// Does an env value look like a real credential rather than a placeholder or reference?
/// Whether a variable's name (upper case) says it holds a credential (`DB_PASSWORD`,
/// `API_TOKEN`), and not a setting about one (`PASSWORD_MIN_LENGTH`).
fn secret_name(upper: &str) -> bool {
    let config_like = NOT_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s));
    (SECRET_NAME_WORDS.iter().any(|w| upper.contains(w))
        || upper.ends_with("_PASS")
        || upper.contains("_PASS_"))
        && !config_like
}

fn looks_like_secret(name: &str, value: &str) -> bool {
    let value = value.trim();
    if value.len() < 4
        || is_reference(value)
        || is_placeholder(name, value)
        || value.eq_ignore_ascii_case("true")
        || value.eq_ignore_ascii_case("false")
        || value.starts_with('/')
    {
        return false;
    }
    if value
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == 's' || c == 'm' || c == 'h')
    {
        return false; // numbers and durations (TOKEN_TTL=3600, SECRET_ROTATION=24h)
    }
    let upper = name.to_ascii_uppercase();
    let named = secret_name(&upper) || upper.ends_with("DSN");
    if named {
        // A DSN is only a secret when it carries credentials (user:pass@, a key@, password=).
        if upper.contains("DSN") || value.contains("://") {
            return value.contains('@') || connection_string_secret(value);
        }
        return true;
    }
    // Shapes of well-known keys, whatever the variable is called.
    value.starts_with("AKIA") && value.len() == 20
        || value.starts_with("sk-") && value.len() > 20
        || value.starts_with("ghp_")
        || value.starts_with("xoxb-")
        || url_with_password(value)
        || connection_string_secret(value)
}

/// Shows that a value exists without revealing it.
pub fn redact(value: &str) -> String {
    format!("<redacted, {} characters>", value.chars().count())
}

fn secret_in_plain_env(_ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    for (route, container) in containers(resource) {
        for (i, env) in container
            .get("env")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let name = env.get("name").and_then(Node::as_str).unwrap_or_default();
            let Some(value_node) = env.get("value") else {
                continue;
            };
            // Terraform writes what the expression gives (`random_password.db.result`) into
            // the object: a credential's name is enough, and the expression is no secret.
            if value_node.tag.as_deref() == Some(crate::load::hcl::EXPR_TAG) {
                let expression = crate::load::hcl::expression_text(value_node).unwrap_or_default();
                if secret_name(&name.to_ascii_uppercase()) {
                    let value_route = route.key("env").index(i).key("value");
                    hits.push(
                        Hit::at(resource.locate(value_node, &value_route))
                            .var("what", "Environment variable")
                            .var("env", name.to_string())
                            .evidence(format!("{expression} (written by Terraform)"))
                            .key(name.to_string()),
                    );
                }
                continue;
            }
            let Some(value) = value_node.scalar_text() else {
                continue;
            };
            if looks_like_secret(name, &value) {
                let value_route = route.key("env").index(i).key("value");
                hits.push(
                    Hit::at(resource.locate(value_node, &value_route))
                        .var("what", "Environment variable")
                        .var("env", name.to_string())
                        .evidence(redact(&value))
                        .key(name.to_string()),
                );
            }
        }
    }
    if resource.kind == "ConfigMap" {
        configmap_secrets(resource, hits);
    }
}

/// Connection strings and URLs with a password in ConfigMap data (a value, or a line of a
/// configuration file held in one). Keys are not judged by name here: ConfigMaps hold settings.
fn configmap_secrets(resource: &Resource, hits: &mut Vec<Hit>) {
    for entry in resource
        .body
        .get("data")
        .map(Node::entries)
        .unwrap_or_default()
    {
        let Some(text) = entry.value.as_str() else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        // Located for the entries that hold a secret only.
        let mut location = None;
        // A block scalar's node may start on its `|` line or on its first content line.
        let first_line = if entry.value.span.start.line == entry.key_span.start.line {
            entry.value.span.start.line.saturating_add(1)
        } else {
            entry.value.span.start.line
        };
        let count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        let block = lines.len() > 1
            && first_line.saturating_add(count).saturating_sub(1) <= entry.value.span.end.line;
        for (index, line) in lines.iter().enumerate() {
            let line = line.trim();
            if !(url_with_password(line) || connection_string_secret(line)) {
                continue;
            }
            let mut at = location
                .get_or_insert_with(|| {
                    resource.locate(&entry.value, &Route::root().key("data").key(&entry.key))
                })
                .clone();
            if block {
                at.start_line = first_line.saturating_add(u32::try_from(index).unwrap_or(0));
                at.end_line = at.start_line;
                at.end_column = at.start_column;
            }
            hits.push(
                Hit::at(at)
                    .var("what", "ConfigMap key")
                    .var("env", entry.key.clone())
                    .evidence(redact(line))
                    .key(format!("{}:{index}", entry.key)),
            );
        }
    }
}

fn ingress_without_tls(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let body = &resource.body;
    match resource.kind.as_str() {
        "Ingress" => {
            let has_tls = body.path("spec.tls").is_some_and(|t| !t.items().is_empty());
            if has_tls || tls_by_annotation(ctx, body) {
                return;
            }
            let hosts: Vec<String> = body
                .path("spec.rules")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.get("host").and_then(Node::scalar_text))
                .collect();
            let location = body
                .path("spec")
                .map(|n| resource.locate(n, &Route::parse("spec")))
                .unwrap_or_else(|| resource.start());
            let location = resource
                .locate_key(body, "spec", &Route::root())
                .unwrap_or(location);
            hits.push(Hit::at(location).var(
                "listener",
                if hosts.is_empty() {
                    "all hosts".into()
                } else {
                    hosts.join(", ")
                },
            ));
        }
        "Gateway" => {
            let listeners = body
                .path("spec.listeners")
                .map(Node::items)
                .unwrap_or_default();
            let any_tls = listeners.iter().any(|l| {
                l.get("protocol")
                    .and_then(Node::as_str)
                    .is_some_and(|p| p == "HTTPS" || p == "TLS")
            });
            if any_tls {
                return;
            }
            for (i, l) in listeners.iter().enumerate() {
                if let Some(p) = l.get("protocol").filter(|p| p.as_str() == Some("HTTP")) {
                    let route = Route::parse("spec.listeners").index(i).key("protocol");
                    let name = l
                        .get("name")
                        .and_then(Node::scalar_text)
                        .unwrap_or_default();
                    hits.push(
                        Hit::at(resource.locate(p, &route))
                            .var("listener", name.clone())
                            .key(name),
                    );
                }
            }
        }
        _ => {}
    }
}

/// Whether an annotation of the Ingress has its load balancer or controller terminate TLS (an
/// ALB listening on HTTPS with an ACM certificate, a certificate installed on the Application
/// Gateway, a Google-managed certificate): the knowledge's `ingress_tls_annotations`.
fn tls_by_annotation(ctx: &Context, body: &Node) -> bool {
    let Some(annotations) = body.path("metadata.annotations") else {
        return false;
    };
    annotations.entries().iter().any(|entry| {
        let value = entry.value.scalar_text().unwrap_or_default();
        ctx.kb
            .markers
            .ingress_tls_annotations
            .iter()
            .any(|a| a.gives_tls(&entry.key, &value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_left_to_be_filled_in_are_not_secrets() {
        assert!(!looks_like_secret("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL"));
        assert!(!looks_like_secret("api-token", "API_TOKEN"));
        assert!(!looks_like_secret("STRIPE_SECRET", "your-stripe-secret"));
        assert!(!looks_like_secret("DB_PASSWORD", "REPLACE_ME"));
        assert!(!looks_like_secret("DB_PASSWORD", "db-password-placeholder"));
        assert!(!looks_like_secret(
            "ETCD_DISCOVERY_TOKEN",
            "INSERT_ETCD_DISCOVERY_TOKEN"
        ));
        assert!(!looks_like_secret(
            "SMTP_PASSWORD",
            "enter-your-smtp-password"
        ));
        assert!(!looks_like_secret("LICENSE_KEY", "FILL_IN_LICENSE_KEY"));
        // Real values stay secrets, also when they hold a word of the name.
        assert!(looks_like_secret("DB_PASSWORD", "password123"));
        assert!(looks_like_secret("API_KEY", "3f9a0c6e1b7d4a2f"));
        assert!(looks_like_secret("API_KEY", "API_KEY=9f8e7d6c5b4a"));
        assert!(looks_like_secret("DB_PASSWORD", "changeme123"));
        assert!(looks_like_secret("PASSWORD", "password123"));
        assert!(looks_like_secret("TOKEN", "token-9f8e7d6c"));
        // A real value may start with such a word without asking for one.
        assert!(looks_like_secret("DB_PASSWORD", "entertainment42"));
        assert!(looks_like_secret("API_KEY", "inserted-9f8e7d6c"));
    }

    #[test]
    fn secrets() {
        assert!(looks_like_secret("DB_PASSWORD", "hunter2hunter2"));
        assert!(!looks_like_secret("DB_PASSWORD_FILE", "/run/secrets/db"));
        assert!(!looks_like_secret("API_TOKEN", "$(TOKEN)"));
        assert!(looks_like_secret(
            "DATABASE_URL",
            "postgres://app:s3cret@db:5432/app"
        ));
        assert!(!looks_like_secret("DATABASE_URL", "postgres://db:5432/app"));
        assert!(!looks_like_secret("LOG_LEVEL", "debug"));
    }

    #[test]
    fn connection_strings() {
        for secret in [
            "Server=db;Database=x;User Id=sa;Password=S3cret;",
            "server=db;uid=sa;pwd=S3cret",
            "Data Source=db;Initial Catalog=x;User ID=sa;PASSWORD=S3cret",
            "jdbc:postgresql://h/db?user=u&password=p4ssw0rd",
            "jdbc:sqlserver://h:1433;databaseName=x;user=sa;password=p4ssw0rd",
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5a2V5==;EndpointSuffix=core.windows.net",
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=a2V5a2V5=",
            r#""Db": "Server=db;User Id=sa;Password=S3cret;","#,
            "Server=db;Password=$3cret-99",
            "cache:6379,password=r3dis-Pass",
        ] {
            assert!(connection_string_secret(secret), "{secret}");
            assert!(looks_like_secret("CONNECTION", secret), "{secret}");
        }
        for not_secret in [
            "Server=db;Database=x;Integrated Security=true",
            "Server=db;User Id=sa;Password=;",
            "Server=db;User Id=sa;Password=$(DB_PASSWORD)",
            "jdbc:postgresql://h/db?user=u&password=${DB_PASSWORD}",
            "AccountName=a;AccountKey={{ .Values.key }}",
            "Server=db;Password=<password>",
            "Server=db;Password=changeme",
            "spring.datasource.password.file=/run/secrets/db",
            "minLength=12;requireDigits=true",
            "mysql -u root --password=$MYSQL_ROOT_PASSWORD -e 'select 1'",
            "Server=db;Password=%DB_PASSWORD%",
            "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=YOUR_KEY_HERE;EndpointSuffix=core.windows.net",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://azurite:10000/devstoreaccount1;",
        ] {
            assert!(!connection_string_secret(not_secret), "{not_secret}");
        }
        assert!(looks_like_secret(
            "DB_DSN",
            "jdbc:postgresql://h/db?user=u&password=p4ssw0rd"
        ));
        assert!(!looks_like_secret(
            "PASSWORD_POLICY",
            "minLength=12;digits=1"
        ));
    }

    #[test]
    fn an_image_is_of_a_repository_wherever_it_is_mirrored() {
        let repo = "cloudflare/cloudflared";
        assert!(is_repository("cloudflare/cloudflared:2026.8.2", repo));
        assert!(is_repository("docker.io/cloudflare/cloudflared", repo));
        assert!(is_repository(
            "mirror.gcr.io/cloudflare/cloudflared:2026.8.2@sha256:0aa2",
            repo
        ));
        assert!(is_repository(
            "registry.example.eu:5000/proxy/cloudflare/cloudflared:1",
            repo
        ));
        assert!(!is_repository(
            "example/cloudflare/cloudflared-exporter:1",
            repo
        ));
        assert!(!is_repository("mycloudflare/cloudflared:1", repo));
    }
}
