//! `sovscan aws`: the configuration items AWS Config records, read per region
//! (`ListDiscoveredResources` + `BatchGetResourceConfig`) or through an aggregator for a whole
//! organisation, scanned like an AWS Config file. Each item is one input named
//! `aws://<account>/<region>/<resourceType>/<resourceId>`; its `configuration` stays the JSON
//! string the API returns, which the AWS Config loader expands as it does for files.

use anyhow::{Result, anyhow, bail};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_config::Client;
use aws_sdk_config::config::{ProvideCredentials, Region};
use aws_sdk_config::error::ProvideErrorMetadata;
use aws_sdk_config::primitives::{DateTime, DateTimeFormat};
use aws_sdk_config::types::{BaseConfigurationItem, ResourceKey, ResourceType};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashSet};
use std::process::ExitCode;
use std::time::Duration;

use super::Collected;
use crate::cli::AwsArgs;
use crate::extract::aws_config::hash128;
use crate::knowledge::{self, services::Dialect};
use crate::load::Format;
use crate::scan::InputScan;

/// Keys per `BatchGetResourceConfig` call: the API's limit.
const BATCH: usize = 100;
/// Rounds for keys the API leaves unprocessed (it does so when throttled).
const UNPROCESSED_ROUNDS: u32 = 6;

pub fn command(args: AwsArgs) -> Result<ExitCode> {
    let kb = knowledge::get()?;
    let setup = super::setup(&args.report)?;
    let mut sink = Sink {
        scan: InputScan::new(&setup.request, &setup.rules, kb),
        batch: Vec::new(),
        seen: HashSet::new(),
        save: args.report.save.as_deref(),
    };
    let collected = super::runtime()?.block_on(collect(&args, &mut sink))?;
    let result = sink.finish();
    super::report(&args.report, &collected, &setup, result)
}

/// Items scanned at once: the pages of the readers are turned into inputs and scanned batch by
/// batch, so that an organisation's hundreds of thousands of items are never held together.
const SCAN_BATCH: usize = 2000;

/// Where the configuration items go as they are read: each becomes an input, saved with
/// `--save`, and is scanned with its batch.
struct Sink<'a> {
    scan: InputScan<'a>,
    batch: Vec<(String, Vec<u8>)>,
    /// The addresses taken, hashed: an item read twice is scanned once.
    seen: HashSet<u128>,
    save: Option<&'a std::path::Path>,
}

impl Sink<'_> {
    fn take(&mut self, page: Vec<BaseConfigurationItem>) -> Result<()> {
        for item in page {
            let address = format!(
                "aws://{}/{}/{}/{}",
                item.account_id().unwrap_or("unknown-account"),
                item.aws_region().unwrap_or("unknown-region"),
                item.resource_type().map_or("", |t| t.as_str()),
                item.resource_id().unwrap_or_default()
            );
            if !self.seen.insert(hash128(address.as_str())) {
                continue;
            }
            let text = serde_json::to_string_pretty(&item_json(&item))?.into_bytes();
            if let Some(dir) = self.save {
                super::save(dir, &address, &text)?;
            }
            self.batch.push((address, text));
            if self.batch.len() >= SCAN_BATCH {
                self.scan.add(&std::mem::take(&mut self.batch));
            }
        }
        Ok(())
    }

    fn finish(mut self) -> crate::scan::ScanResult {
        self.scan.add(&std::mem::take(&mut self.batch));
        self.scan.finish()
    }
}

/// Why a call failed, and how far the failure reaches.
enum Failure {
    /// The credentials themselves: nothing else will work either.
    Fatal(String),
    /// This region (or aggregator) cannot be read.
    Region(String),
    /// This resource type is not known to the endpoint: skipped (`unknown_type`).
    Type,
}

fn classify<E>(err: &aws_sdk_config::error::SdkError<E>, what: &str, where_: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or_default();
    let message = err.message().unwrap_or_default();
    match code {
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" | "TokenRefreshRequired" => {
            Failure::Fatal(format!(
                "the AWS credentials have expired ({code}): refresh them (`aws sso login`, a new session token) and run again"
            ))
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature" => Failure::Fatal(format!(
            "AWS rejected the credentials ({code}: {message}): check the access key or pass --aws-profile"
        )),
        "AccessDeniedException" | "AccessDenied" => Failure::Region(format!(
            "{where_}: access denied to {what}: grant config:ListDiscoveredResources, config:BatchGetResourceConfig (and the aggregate calls for --aggregator), e.g. with the AWS managed policy ReadOnlyAccess"
        )),
        "NoSuchConfigurationAggregatorException" => Failure::Fatal(format!(
            "{where_}: no such AWS Config aggregator: `aws configservice describe-configuration-aggregators` lists them"
        )),
        "ValidationException" | "InvalidParameterValueException" => Failure::Type,
        "" => {
            use aws_sdk_config::error::SdkError;
            let why = match err {
                SdkError::DispatchFailure(_) => "cannot reach the endpoint".to_string(),
                SdkError::TimeoutError(_) => "no answer in time".to_string(),
                SdkError::ResponseError(_) => {
                    let cause = std::error::Error::source(err).map(ToString::to_string);
                    let mut text = format!("unreadable answer: {}", cause.unwrap_or_default());
                    text.truncate(300);
                    text
                }
                other => short(other),
            };
            Failure::Region(format!(
                "{where_}: {what} failed ({why}): check --endpoint-url, the network and the region name"
            ))
        }
        _ => Failure::Region(format!("{where_}: {what} failed: {code}: {message}")),
    }
}

/// An error's own text and its first cause, without the raw answer some causes carry.
fn short(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    if let Some(source) = err.source() {
        text.push_str(": ");
        text.push_str(&source.to_string());
    }
    text.truncate(300);
    text
}

/// Reads the regions (or the aggregator) at once, and hands each page of items to `sink` as it
/// comes; what is read is not held.
async fn collect(args: &AwsArgs, sink: &mut Sink<'_>) -> Result<Collected> {
    let kb = knowledge::get()?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        // Standard retries back off exponentially on throttling errors.
        RetryConfig::standard()
            .with_max_attempts(5)
            .with_initial_backoff(Duration::from_millis(200)),
    );
    if let Some(profile) = &args.aws_profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let base = loader.load().await;
    let Some(provider) = base.credentials_provider() else {
        bail!(
            "no AWS credentials: set AWS_PROFILE or pass --aws-profile, run `aws sso login`, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        );
    };
    if let Err(e) = provider.provide_credentials().await {
        // The chain's own text lists every provider it tried, over several lines.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        let why = first
            .split_once(". Attempted")
            .map_or(first, |(head, _)| head);
        bail!(
            "no usable AWS credentials ({why}): set AWS_PROFILE or pass --aws-profile, run `aws sso login`, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        );
    }
    let regions: Vec<String> = if args.all_regions {
        kb.region_ids("aws")
            .into_iter()
            .filter(|r| {
                !["us-gov-", "cn-", "eusc-", "us-iso"]
                    .iter()
                    .any(|p| r.starts_with(p))
            })
            .collect()
    } else if !args.region.is_empty() {
        args.region.clone()
    } else if let Some(region) = base.region() {
        vec![region.to_string()]
    } else if args.aggregator.is_some() {
        bail!("the aggregator's own region is needed: pass --region or set AWS_REGION")
    } else {
        bail!("no region: pass --region R (repeatable) or --all-regions, or set AWS_REGION")
    };
    let client_for = |region: &str| {
        Client::from_conf(
            aws_sdk_config::config::Builder::from(&base)
                .region(Region::new(region.to_string()))
                .build(),
        )
    };
    let fallback_types: Vec<String> = if args.resource_type.is_empty() {
        let dialect = Dialect::of(Format::AwsConfig);
        let mut types: BTreeSet<String> = BTreeSet::new();
        for service in kb.services.iter() {
            for t in service.types.get(&dialect).into_iter().flatten() {
                if t.starts_with("AWS::") && !t.contains('*') {
                    types.insert(t.clone());
                }
            }
        }
        types.into_iter().collect()
    } else {
        args.resource_type.clone()
    };

    let mut collected = Collected::default();
    // A few pages in flight: readers wait while a batch is scanned.
    let (pages, mut received) = tokio::sync::mpsc::channel::<Vec<BaseConfigurationItem>>(4);
    let mut tasks = Vec::new();
    if let Some(aggregator) = &args.aggregator {
        let client = client_for(&regions[0]);
        let (aggregator, explicit) = (aggregator.clone(), args.resource_type.clone());
        let (fallback, pages) = (fallback_types.clone(), pages.clone());
        tasks.push(tokio::spawn(async move {
            read_aggregator(&client, &aggregator, &explicit, &fallback, &pages).await
        }));
    } else {
        for region in &regions {
            let client = client_for(region);
            let region = region.clone();
            let explicit = args.resource_type.clone();
            let (fallback, pages) = (fallback_types.clone(), pages.clone());
            tasks.push(tokio::spawn(async move {
                read_region(&client, &region, &explicit, &fallback, &pages).await
            }));
        }
    }
    drop(pages);
    while let Some(page) = received.recv().await {
        tokio::task::block_in_place(|| sink.take(page))?;
    }
    for task in tasks {
        match task
            .await
            .map_err(|e| anyhow!("a reader of AWS Config stopped: {e}"))?
        {
            Ok(problems) => {
                collected.problems.extend(problems);
                collected.scanned_parts += 1;
            }
            Err(Failure::Fatal(m)) => bail!(m),
            Err(Failure::Region(m)) => collected.problems.push(m),
            Err(Failure::Type) => {}
        }
    }
    let summary = format!(
        "\nAWS Config: {} configuration items from {} ({})\n",
        sink.seen.len(),
        match &args.aggregator {
            Some(a) => format!("aggregator {a}"),
            None => format!("{} of {} regions", collected.scanned_parts, regions.len()),
        },
        regions.join(", ")
    );
    collected.table_section = summary;
    collected.json_section = Some((
        "aws".to_string(),
        json!({
            "aggregator": args.aggregator,
            "regions": regions,
            "regions_read": collected.scanned_parts,
            "items": sink.seen.len(),
            "problems": collected.problems,
        }),
    ));
    Ok(collected)
}

/// The resource types to list in a region: those given, else those Config counts there, else
/// every AWS Config type the service knowledge knows.
async fn region_types(client: &Client, explicit: &[String], fallback: &[String]) -> Vec<String> {
    if !explicit.is_empty() {
        return explicit.to_vec();
    }
    let mut types = Vec::new();
    let mut token: Option<String> = None;
    loop {
        match client
            .get_discovered_resource_counts()
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(out) => {
                types.extend(
                    out.resource_counts()
                        .iter()
                        .filter_map(|c| c.resource_type().map(|t| t.as_str().to_string())),
                );
                token = out.next_token().map(str::to_string);
                if token.is_none() {
                    return types;
                }
            }
            // Endpoints that do not count (older or partial implementations): list every type.
            Err(_) => return fallback.to_vec(),
        }
    }
}

/// Reads a region's items, sending them to `pages` a call's answer at a time; returns the
/// problems met.
async fn read_region(
    client: &Client,
    region: &str,
    explicit: &[String],
    fallback: &[String],
    pages: &Pages,
) -> Result<Vec<String>, Failure> {
    let mut problems = Vec::new();
    match client.describe_configuration_recorder_status().send().await {
        Ok(out) => {
            if !out
                .configuration_recorders_status()
                .iter()
                .any(|s| s.recording())
            {
                problems.push(format!(
                    "{region}: AWS Config is not recording in this region, so only what it recorded before is scanned: turn it on with `aws configservice start-configuration-recorder` (or the Config console)"
                ));
            }
        }
        Err(e) => match classify(&e, "DescribeConfigurationRecorderStatus", region) {
            Failure::Fatal(m) => return Err(Failure::Fatal(m)),
            // Listing may still be allowed: say what is unknown and go on.
            Failure::Region(m) => problems.push(format!(
                "{m} (whether Config records here is unknown; the region is still read)"
            )),
            Failure::Type => {}
        },
    }
    // Identifiers listed without a type or an id, which cannot be asked for.
    let mut unnamed = 0;
    for t in region_types(client, explicit, fallback).await {
        let mut token: Option<String> = None;
        loop {
            let out = match client
                .list_discovered_resources()
                .resource_type(ResourceType::from(t.as_str()))
                .limit(100)
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => match classify(&e, "ListDiscoveredResources", region) {
                    Failure::Type => {
                        unknown_type(&mut problems, region, explicit, &t);
                        break;
                    }
                    other => return Err(other),
                },
            };
            let listed = out.resource_identifiers();
            let keys: Vec<ResourceKey> = (listed.iter())
                .filter_map(|r| {
                    let (kind, id) = (r.resource_type()?, r.resource_id()?);
                    ResourceKey::builder()
                        .resource_type(kind.clone())
                        .resource_id(id)
                        .build()
                        .ok()
                })
                .collect();
            unnamed += listed.len() - keys.len();
            // The page's items are read before the next page is listed: no key list grows
            // with the account.
            fetch(keys, region, &mut problems, pages, |keys| async {
                let out = client
                    .batch_get_resource_config()
                    .set_resource_keys(Some(keys))
                    .send()
                    .await
                    .map_err(|e| classify(&e, "BatchGetResourceConfig", region))?;
                Ok((
                    out.base_configuration_items.unwrap_or_default(),
                    out.unprocessed_resource_keys.unwrap_or_default(),
                ))
            })
            .await?;
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
    }
    if unnamed > 0 {
        problems.push(format!(
            "{region}: {unnamed} resources were listed without a type or an id and could not be read"
        ));
    }
    Ok(problems)
}

/// Reads an aggregator's items as `read_region` reads a region's.
async fn read_aggregator(
    client: &Client,
    aggregator: &str,
    explicit: &[String],
    fallback: &[String],
    pages: &Pages,
) -> Result<Vec<String>, Failure> {
    let where_ = format!("aggregator {aggregator}");
    let types = if explicit.is_empty() {
        fallback
    } else {
        explicit
    };
    let mut problems = Vec::new();
    for t in types {
        let mut token: Option<String> = None;
        loop {
            let out = match client
                .list_aggregate_discovered_resources()
                .configuration_aggregator_name(aggregator)
                .resource_type(ResourceType::from(t.as_str()))
                .limit(100)
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => match classify(&e, "ListAggregateDiscoveredResources", &where_) {
                    Failure::Type => {
                        unknown_type(&mut problems, &where_, explicit, t);
                        break;
                    }
                    other => return Err(other),
                },
            };
            let ids = out.resource_identifiers.unwrap_or_default();
            fetch(ids, &where_, &mut problems, pages, |ids| async {
                let out = client
                    .batch_get_aggregate_resource_config()
                    .configuration_aggregator_name(aggregator)
                    .set_resource_identifiers(Some(ids))
                    .send()
                    .await
                    .map_err(|e| classify(&e, "BatchGetAggregateResourceConfig", &where_))?;
                Ok((
                    out.base_configuration_items.unwrap_or_default(),
                    out.unprocessed_resource_identifiers.unwrap_or_default(),
                ))
            })
            .await?;
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
    }
    Ok(problems)
}

/// A type the endpoint does not know is skipped: quietly when it comes from the service
/// knowledge (not every region has every type), with a problem when `--resource-type` gave it.
fn unknown_type(problems: &mut Vec<String>, where_: &str, explicit: &[String], kind: &str) {
    if explicit.iter().any(|e| e == kind) {
        problems.push(format!(
            "{where_}: AWS Config does not accept the resource type {kind}, so none was read: check its spelling (`aws configservice list-discovered-resources --resource-type` takes the same names)"
        ));
    }
}

/// Reads the items of `ids`, `BATCH` at a time with `get` (which gives the items and the ids
/// left unprocessed), asking again for those the API leaves unprocessed when throttled, and
/// sends them to `pages`; says so in `problems` when some stay unprocessed.
async fn fetch<K, Get, Answer>(
    ids: Vec<K>,
    where_: &str,
    problems: &mut Vec<String>,
    pages: &Pages,
    get: Get,
) -> Result<(), Failure>
where
    K: Clone,
    Get: Fn(Vec<K>) -> Answer,
    Answer: std::future::Future<Output = Result<(Vec<BaseConfigurationItem>, Vec<K>), Failure>>,
{
    for chunk in ids.chunks(BATCH) {
        let mut pending = chunk.to_vec();
        let mut round = 0;
        while !pending.is_empty() {
            let (items, unprocessed) = get(pending).await?;
            send(pages, items).await?;
            pending = unprocessed;
            round += 1;
            if round >= UNPROCESSED_ROUNDS && !pending.is_empty() {
                problems.push(format!(
                    "{where_}: {} resources stayed unprocessed after {round} tries (throttling): run again later",
                    pending.len()
                ));
                break;
            }
            if !pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(200 << round)).await;
            }
        }
    }
    Ok(())
}

/// Where the readers send the items they read.
type Pages = tokio::sync::mpsc::Sender<Vec<BaseConfigurationItem>>;

/// Sends the items of one answer; the scan stopping ends the reading.
async fn send(pages: &Pages, items: Vec<BaseConfigurationItem>) -> Result<(), Failure> {
    if items.is_empty() {
        return Ok(());
    }
    pages
        .send(items)
        .await
        .map_err(|_| Failure::Fatal("the scan of the items stopped".into()))
}

fn time(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
}

/// A configuration item in the shape AWS Config files and the CLI write it.
fn item_json(item: &BaseConfigurationItem) -> Value {
    let mut map = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            map.insert(key.to_string(), Value::String(v));
        }
    };
    put("version", item.version().map(str::to_string));
    put("accountId", item.account_id().map(str::to_string));
    put(
        "configurationItemCaptureTime",
        time(item.configuration_item_capture_time()),
    );
    put(
        "configurationItemStatus",
        item.configuration_item_status()
            .map(|s| s.as_str().to_string()),
    );
    put(
        "configurationStateId",
        item.configuration_state_id().map(str::to_string),
    );
    put("arn", item.arn().map(str::to_string));
    put(
        "resourceType",
        item.resource_type().map(|t| t.as_str().to_string()),
    );
    put("resourceId", item.resource_id().map(str::to_string));
    put("resourceName", item.resource_name().map(str::to_string));
    put("awsRegion", item.aws_region().map(str::to_string));
    put(
        "availabilityZone",
        item.availability_zone().map(str::to_string),
    );
    put("resourceCreationTime", time(item.resource_creation_time()));
    put("configuration", item.configuration().map(str::to_string));
    if let Some(supplementary) = item.supplementary_configuration() {
        let sorted: std::collections::BTreeMap<_, _> = supplementary.iter().collect();
        map.insert("supplementaryConfiguration".to_string(), json!(sorted));
    }
    Value::Object(map)
}
