//! Where an Alertmanager sends its notifications: the receivers of a prometheus-operator
//! `AlertmanagerConfig`, of an Alertmanager configuration file kept in a ConfigMap or a Secret
//! (`alertmanager.yaml`), and of the kube-prometheus-stack chart's values in a Flux
//! `HelmRelease` or an Argo CD `Application` (`alertmanager.config`). Each integration sends to the URL written, to the
//! global one of the file, or to the service's own endpoint that Alertmanager uses when none
//! is written (Pushover, PagerDuty, Opsgenie, Telegram, …). A URL read from a Secret is not
//! known here.

use crate::model::Resource;
use crate::tree::{Node, Route};

/// A notification integration of an Alertmanager receiver.
pub struct Integration {
    /// Its list's name in the configuration file (`pagerduty_configs`).
    pub file: &'static str,
    /// Its list's name in an `AlertmanagerConfig` (`pagerdutyConfigs`).
    pub crd: &'static str,
    /// The field of an item that names the endpoint, in the file and in the CRD.
    pub file_url: Option<&'static str>,
    pub crd_url: Option<&'static str>,
    /// The file's `global` setting that gives the endpoint to every item naming none.
    pub global: Option<&'static str>,
    /// The endpoint Alertmanager uses when neither is written (its configuration
    /// documentation's defaults; Pushover's API address is fixed in its notifier).
    pub default: Option<&'static str>,
}

/// The integrations that send to an address, from Alertmanager's configuration documentation
/// and prometheus-operator's `AlertmanagerConfig` API. E-mail, SNS and Jira are not among them:
/// a mail relay or an AWS region is judged elsewhere.
pub const INTEGRATIONS: &[Integration] = &[
    Integration {
        file: "pushover_configs",
        crd: "pushoverConfigs",
        file_url: None,
        crd_url: None,
        global: None,
        default: Some("https://api.pushover.net/1/messages.json"),
    },
    Integration {
        file: "pagerduty_configs",
        crd: "pagerdutyConfigs",
        file_url: Some("url"),
        crd_url: Some("url"),
        global: Some("pagerduty_url"),
        default: Some("https://events.pagerduty.com/v2/enqueue"),
    },
    Integration {
        file: "opsgenie_configs",
        crd: "opsgenieConfigs",
        file_url: Some("api_url"),
        crd_url: Some("apiURL"),
        global: Some("opsgenie_api_url"),
        default: Some("https://api.opsgenie.com/"),
    },
    Integration {
        file: "victorops_configs",
        crd: "victoropsConfigs",
        file_url: Some("api_url"),
        crd_url: Some("apiUrl"),
        global: Some("victorops_api_url"),
        default: Some("https://alert.victorops.com/integrations/generic/20131114/alert/"),
    },
    Integration {
        file: "telegram_configs",
        crd: "telegramConfigs",
        file_url: Some("api_url"),
        crd_url: Some("apiURL"),
        global: Some("telegram_api_url"),
        default: Some("https://api.telegram.org"),
    },
    Integration {
        file: "webex_configs",
        crd: "webexConfigs",
        file_url: Some("api_url"),
        crd_url: Some("apiURL"),
        global: Some("webex_api_url"),
        default: Some("https://webexapis.com/v1/messages"),
    },
    Integration {
        file: "wechat_configs",
        crd: "wechatConfigs",
        file_url: Some("api_url"),
        crd_url: Some("apiURL"),
        global: Some("wechat_api_url"),
        default: Some("https://qyapi.weixin.qq.com/cgi-bin/"),
    },
    Integration {
        file: "slack_configs",
        crd: "slackConfigs",
        file_url: Some("api_url"),
        crd_url: Some("apiURL"),
        global: Some("slack_api_url"),
        default: None,
    },
    Integration {
        file: "discord_configs",
        crd: "discordConfigs",
        file_url: Some("webhook_url"),
        crd_url: Some("apiURL"),
        global: None,
        default: None,
    },
    Integration {
        file: "msteams_configs",
        crd: "msteamsConfigs",
        file_url: Some("webhook_url"),
        crd_url: Some("webhookUrl"),
        global: None,
        default: None,
    },
    Integration {
        file: "webhook_configs",
        crd: "webhookConfigs",
        file_url: Some("url"),
        crd_url: Some("url"),
        global: None,
        default: None,
    },
];

/// Where one integration of a receiver sends to.
pub struct Endpoint {
    /// The node to point at, under the resource's body: the URL written, or else the
    /// integration's item.
    pub route: Route,
    /// For a configuration file kept as text in a ConfigMap or Secret: how many lines below
    /// the text's node the node in the text is.
    pub line_in_text: Option<u32>,
    /// The integration's list as written (`pushover_configs`).
    pub list: &'static str,
    pub target: Target,
}

/// What an integration sends to.
pub enum Target {
    /// A URL: written on the item, the file's global setting (named), or the service's own
    /// endpoint that Alertmanager uses when none is written.
    Url { url: String, how: How },
    /// A URL read from a Secret (`apiURL: {name, key}`) or a file, or none at all: not known
    /// here. The text says how (`read from the Secret slack, key url`).
    Hidden(String),
}

pub enum How {
    Written,
    Global(&'static str),
    Default,
}

/// The keys of a ConfigMap's `data` or a Secret's `stringData` that hold an Alertmanager
/// configuration file.
pub const CONFIG_KEYS: &[&str] = &["alertmanager.yaml", "alertmanager.yml"];

/// Every integration of every receiver the resource configures.
pub fn endpoints(resource: &Resource) -> Vec<Endpoint> {
    let mut out = Vec::new();
    let body = &resource.body;
    match resource.kind.as_str() {
        "AlertmanagerConfig"
            if resource
                .api_group()
                .is_some_and(|g| g == "monitoring.coreos.com") =>
        {
            let base = Route::root().key("spec");
            if let Some(spec) = body.get("spec") {
                receivers(spec, &base, None, true, &mut out);
            }
        }
        "ConfigMap" | "Secret" => {
            let field = if resource.kind == "ConfigMap" {
                "data"
            } else {
                "stringData"
            };
            for entry in body.get(field).map(Node::entries).unwrap_or_default() {
                if CONFIG_KEYS.contains(&entry.key.as_str()) {
                    let at = Route::root().key(field).key(&entry.key);
                    in_text(entry, &at, &Route::root(), &mut out);
                }
            }
        }
        // An Argo CD Application's Helm values, as an object or as YAML text.
        "Application" if resource.api_group() == Some("argoproj.io") => {
            let spec = Route::root().key("spec");
            let mut sources = Vec::new();
            if let Some(source) = body.path("spec.source") {
                sources.push((spec.key("source"), source));
            }
            for (i, source) in (body.path("spec.sources").map(Node::items))
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                sources.push((spec.key("sources").index(i), source));
            }
            let config = Route::parse("alertmanager.config");
            for (route, source) in sources {
                let Some(helm) = source.get("helm") else {
                    continue;
                };
                let helm_route = route.key("helm");
                if let Some(values) = helm.get("valuesObject")
                    && let Some(found) = values.at(&config)
                {
                    let at = helm_route.key("valuesObject").join(&config);
                    receivers(found, &at, Some(found), false, &mut out);
                }
                if let Some(entry) = helm.entry("values") {
                    in_text(entry, &helm_route.key("values"), &config, &mut out);
                }
            }
        }
        "HelmRelease" => {
            let at = Route::parse("spec.values.alertmanager.config");
            if let Some(config) = body.at(&at) {
                receivers(config, &at, Some(config), false, &mut out);
            }
        }
        _ => {}
    }
    out
}

/// The integrations of an Alertmanager configuration kept as YAML text (an entry's value), at
/// `inside` in the text: each placed at the entry (`at`), on the line of its node in the text.
/// A text that does not parse gives one endpoint not known here, at the line that stops it.
fn in_text(entry: &crate::tree::Entry, at: &Route, inside: &Route, out: &mut Vec<Endpoint>) {
    let Some(text) = entry.value.as_str() else {
        return;
    };
    // A block scalar's node starts on its `|` line, its text on the next.
    let first = u32::from(entry.value.span.start.line == entry.key_span.start.line);
    let documents = match crate::load::yaml::parse_stream(text) {
        Ok(documents) => documents,
        Err(e) => {
            out.push(Endpoint {
                route: at.clone(),
                line_in_text: Some(e.line.saturating_sub(1) + first),
                list: "receivers",
                target: Target::Hidden(format!(
                    "in a configuration text that does not parse ({})",
                    e.reason
                )),
            });
            return;
        }
    };
    let Some(config) = documents.first().and_then(|d| d.at(inside)) else {
        return;
    };
    let mut found = Vec::new();
    receivers(config, &Route::root(), Some(config), false, &mut found);
    for mut endpoint in found {
        let node = config.at(&endpoint.route);
        endpoint.line_in_text = node.map(|n| n.span.start.line.saturating_sub(1) + first);
        endpoint.route = at.clone();
        out.push(endpoint);
    }
}

/// The integrations of the receivers under `parent` (at `base`): written as in the file
/// (snake case, with `global` in `file`) or as in the CRD (camel case).
fn receivers(parent: &Node, base: &Route, file: Option<&Node>, crd: bool, out: &mut Vec<Endpoint>) {
    let global = file.and_then(|f| f.get("global"));
    for (i, receiver) in parent
        .get("receivers")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let at = base.key("receivers").index(i);
        for integration in INTEGRATIONS {
            let list = if crd {
                integration.crd
            } else {
                integration.file
            };
            let field = if crd {
                integration.crd_url
            } else {
                integration.file_url
            };
            for (j, item) in receiver
                .get(list)
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let item_at = at.key(list).index(j);
                // The address in a file (`api_url_file`) or, in the CRD, a Secret
                // (`urlSecret`) beside the field.
                let elsewhere = field.and_then(|f| {
                    let (key, read) = if crd {
                        (format!("{f}Secret"), secret_of as fn(&Node) -> String)
                    } else {
                        (format!("{f}_file"), file_of as fn(&Node) -> String)
                    };
                    let node = item.get(&key)?;
                    Some((item_at.key(&key), read(node)))
                });
                if let Some((route, why)) = elsewhere {
                    out.push(Endpoint {
                        route,
                        line_in_text: None,
                        list,
                        target: Target::Hidden(why),
                    });
                    continue;
                }
                let written = field.and_then(|f| item.get(f).map(|n| (f, n)));
                let (route, target) = match written {
                    Some((f, node)) => match node.as_str() {
                        Some(url) => (
                            item_at.key(f),
                            Target::Url {
                                url: url.to_string(),
                                how: How::Written,
                            },
                        ),
                        None => (item_at.key(f), Target::Hidden(secret_of(node))),
                    },
                    None => match (integration.global, global) {
                        (Some(key), Some(g)) if g.get(key).and_then(Node::as_str).is_some() => (
                            item_at,
                            Target::Url {
                                url: g.get(key).and_then(Node::as_str).unwrap_or_default().into(),
                                how: How::Global(key),
                            },
                        ),
                        _ => match integration.default {
                            Some(url) => (
                                item_at,
                                Target::Url {
                                    url: url.into(),
                                    how: How::Default,
                                },
                            ),
                            None => (
                                item_at,
                                Target::Hidden(match field {
                                    Some(f) => format!("that is not written (no `{f}`)"),
                                    None => "that is not written".into(),
                                }),
                            ),
                        },
                    },
                };
                out.push(Endpoint {
                    route,
                    line_in_text: None,
                    list,
                    target,
                });
            }
        }
    }
}

/// How a URL read from a file is named.
fn file_of(node: &Node) -> String {
    format!(
        "read from the file {}",
        node.scalar_text().unwrap_or_default()
    )
}

/// How a URL read from a Secret is named (`read from the Secret alertmanager-slack, key url`).
fn secret_of(node: &Node) -> String {
    let name = node.get("name").and_then(Node::as_str).unwrap_or("?");
    match node.get("key").and_then(Node::as_str) {
        Some(key) => format!("read from the Secret {name}, key {key}"),
        None => format!("read from the Secret {name}"),
    }
}
