//! Typed views of the embedded knowledge files (only the fields sovscan reads).
//! Unknown keys are ignored so the files can carry notes and sources beside the facts.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Default)]
pub struct VersionFile {
    pub kb_version: String,
    pub checked: String,
    /// `knowledge::facts_digest` of the facts `kb_version` stands for.
    #[serde(default)]
    pub facts_digest: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct RegionsFile {
    pub providers: BTreeMap<String, ProviderRegions>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ProviderRegions {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub regions: BTreeMap<String, RegionEntry>,
    #[serde(default)]
    pub multi_regions: BTreeMap<String, MultiRegionEntry>,
    #[serde(default)]
    pub region_pairs: BTreeMap<String, RegionPair>,
    #[serde(default)]
    pub no_pair: Vec<String>,
    /// The region the provider's Terraform provider uses when its configuration names none
    /// (Scaleway `fr-par`, STACKIT `eu01`), and what else can choose it.
    #[serde(default)]
    pub terraform_default_region: Option<String>,
    #[serde(default)]
    pub terraform_default_note: Option<String>,
    /// Every region the provider offers is in the EU/EEA (Scaleway, STACKIT): a region the
    /// deployment chooses keeps the data in the EU whichever it is.
    #[serde(default)]
    pub every_region_in_eu: bool,
    #[serde(default)]
    pub every_region_note: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct RegionEntry {
    pub country: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub unverified: bool,
    /// Key in `jurisdictions.yaml` of the EU-operated offering the region belongs to (`aws-esc`).
    #[serde(default)]
    pub offering: Option<String>,
    /// The answer every resource in the region shares, built at its first lookup.
    #[serde(skip)]
    pub info: std::sync::OnceLock<std::sync::Arc<super::RegionInfo>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct MultiRegionEntry {
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub unverified: bool,
    /// The answer every resource in the multi-region shares, built at its first lookup.
    #[serde(skip)]
    pub info: std::sync::OnceLock<std::sync::Arc<super::RegionInfo>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct RegionPair {
    pub pair: String,
    #[serde(default)]
    pub unverified: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct JurisdictionsFile {
    pub groups: Groups,
    #[serde(default)]
    pub adequacy: BTreeMap<String, Adequacy>,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderControl>,
    #[serde(default)]
    pub eu_alternatives: BTreeMap<String, Alternatives>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Groups {
    #[serde(rename = "EU")]
    pub eu: Vec<String>,
    #[serde(rename = "EEA")]
    pub eea: Vec<String>,
    #[serde(rename = "EU_OUTERMOST_AND_SPECIAL", default)]
    pub eu_special: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct Adequacy {
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct ProviderControl {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub hq_country: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub parent_country: Option<String>,
    #[serde(default)]
    pub classification: Option<String>,
    #[serde(default)]
    pub exposed_to: Vec<String>,
}

impl ProviderControl {
    pub fn is_eu_controlled(&self) -> bool {
        self.classification.as_deref() == Some("eu_controlled")
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct Alternatives {
    #[serde(default)]
    pub eu: Vec<String>,
    #[serde(default)]
    pub self_hosted: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct EndpointsFile {
    #[serde(default)]
    pub registries: Vec<HostPattern>,
    #[serde(default)]
    pub saas_endpoints: Vec<HostPattern>,
    #[serde(default)]
    pub cloud_service_endpoints: Vec<HostPattern>,
    #[serde(default)]
    pub env_vars: Vec<EnvVarSpec>,
    #[serde(default)]
    pub connector_images: Vec<ConnectorImage>,
}

/// A container image whose only work is to carry data to one vendor's service (Cloudflare's
/// `cloudflared`): running it sends data there, whatever its settings say.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct ConnectorImage {
    /// The image's repository without registry (`cloudflare/cloudflared`); mirrors and
    /// proxies that keep it as the path's end match too.
    pub repository: String,
    /// A host of the service it sends to, classified as the SaaS endpoints are.
    pub host: String,
    /// Where the data goes, as the finding says it (`its edge, through cloudflared (…)`).
    pub does: String,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct HostPattern {
    pub id: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    pub host_regex: String,
    #[serde(default)]
    pub region_group: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub operator_country: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub data_region: Option<String>,
    #[serde(default)]
    pub region_map: BTreeMap<String, String>,
    #[serde(default)]
    pub realm_map: BTreeMap<String, String>,
    #[serde(default)]
    pub eu_alternative: Option<String>,
    #[serde(default)]
    pub eu_provider: bool,
    #[serde(default)]
    pub unverified: bool,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct EnvVarSpec {
    pub name: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub carries: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct MarkersFile {
    #[serde(default)]
    pub annotations: Vec<KeyMarker>,
    #[serde(default)]
    pub ingress_classes: IngressClasses,
    #[serde(default)]
    pub gateway_classes: Vec<GatewayClass>,
    #[serde(default)]
    pub load_balancer_classes: Vec<ValueMarker>,
    #[serde(default)]
    pub storage_provisioners: Vec<Provisioner>,
    #[serde(default)]
    pub storage_class_names: Vec<Provisioner>,
    #[serde(default)]
    pub workload_identity: Vec<IdentityMarker>,
    #[serde(default)]
    pub node_labels: NodeLabels,
    #[serde(default)]
    pub instance_type_patterns: Vec<InstanceTypePattern>,
    #[serde(default)]
    pub crd_groups: Vec<CrdGroup>,
    #[serde(default)]
    pub controller_settings: ControllerSettings,
    #[serde(default)]
    pub ingress_tls_annotations: Vec<TlsAnnotation>,
}

/// An Ingress annotation that gives the Ingress a TLS listener without `spec.tls`: the load
/// balancer or the controller terminates TLS with a certificate the annotation names, or one
/// it finds for the Ingress's hosts.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct TlsAnnotation {
    pub key: String,
    /// The annotation counts only when its value holds this text, in any case (a list of
    /// listener ports that names HTTPS).
    #[serde(default)]
    pub value_contains: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
}

impl TlsAnnotation {
    /// Whether an annotation `key: value` gives TLS as this one does.
    pub fn gives_tls(&self, key: &str, value: &str) -> bool {
        key == self.key
            && !value.trim().is_empty()
            && self.value_contains.as_deref().is_none_or(|wanted| {
                value
                    .to_ascii_lowercase()
                    .contains(&wanted.to_ascii_lowercase())
            })
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct KeyMarker {
    #[serde(default, rename = "match")]
    pub match_kind: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub ambiguous_with: Vec<String>,
    #[serde(default)]
    pub unverified: bool,
    /// Keys of this family whose value is where the cloud makes the load balancer of a
    /// `LoadBalancer` Service (`load-balancer.hetzner.cloud/location: fsn1`), most precise first.
    #[serde(default)]
    pub location_keys: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct IngressClasses {
    #[serde(default)]
    pub values: Vec<ValueMarker>,
    #[serde(default)]
    pub controllers: Vec<ValueMarker>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct ValueMarker {
    pub value: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub ambiguous_with: Vec<String>,
    #[serde(default)]
    pub unverified: bool,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct GatewayClass {
    pub controller_name: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub class_names: Vec<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct Provisioner {
    pub name: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    /// Others that use the same name: providers, or setups that are no cloud (`kind`, `other`).
    #[serde(default)]
    pub ambiguous_with: Vec<String>,
    #[serde(default)]
    pub unverified: bool,
    /// The in-tree volume type of a legacy provisioner (`gcePersistentDisk`), written in a
    /// persistent volume's spec or a pod's volume.
    #[serde(default)]
    pub volume_source: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct IdentityMarker {
    pub provider: String,
    #[serde(default)]
    pub mechanism: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default, rename = "match")]
    pub match_kind: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct NodeLabels {
    #[serde(default)]
    pub labels: Vec<NodeLabel>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct NodeLabel {
    #[serde(default, rename = "match")]
    pub match_kind: Option<String>,
    pub key: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub value_is: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct InstanceTypePattern {
    pub provider: String,
    pub regex: String,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct CrdGroup {
    pub group_regex: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub tool: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ControllerSettings {
    #[serde(default)]
    pub external_dns: ProviderTable,
    #[serde(default)]
    pub cert_manager: SolverTable,
    #[serde(default)]
    pub secrets_store_csi: ProvidersTable,
    #[serde(default)]
    pub external_secrets: ProvidersTable,
    #[serde(default)]
    pub velero: ProvidersTable,
    #[serde(default)]
    pub cluster_autoscaler: AutoscalerTable,
    #[serde(default)]
    pub fluent_bit: OutputsTable,
    #[serde(default)]
    pub fluentd: OutputsTable,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct ProviderRef {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub saas: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ProviderTable {
    #[serde(default)]
    pub provider_values: BTreeMap<String, ProviderRef>,
}

#[derive(Debug, Deserialize, Default)]
pub struct SolverTable {
    #[serde(default)]
    pub dns01_solvers: BTreeMap<String, ProviderRef>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ProvidersTable {
    #[serde(default)]
    pub providers: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize, Default)]
pub struct AutoscalerTable {
    #[serde(default)]
    pub provider_values: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Deserialize, Default)]
pub struct OutputsTable {
    #[serde(default)]
    pub outputs: BTreeMap<String, ProviderRef>,
}
