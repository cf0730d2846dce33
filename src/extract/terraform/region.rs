//! Where a Terraform resource is located, in this order: its own location argument, the
//! provider block it names (`provider = aws.alias`), a resource it refers to (the resource group
//! of an Azure resource, the datacenter of an IONOS server), the default provider block.

use std::collections::{BTreeMap, HashMap};

use super::installed::Installed;
use super::module::{
    Eval, Inputs, Module, ProviderBlock, located_key, output_key, placed_key, referred_resource,
};
use crate::extract::cloud::{provider_local_name, region_attributes};
use crate::knowledge::KnowledgeBase;
use crate::knowledge::services::Service;
use crate::load::Format;
use crate::load::hcl::expression_text;
use crate::location::Location;
use crate::tree::{Node, Route};

/// Providers whose resources take their region from the provider block when they name none.
const REGIONAL_PROVIDERS: &[&str] = &[
    "aws",
    "google",
    "google-beta",
    "scaleway",
    "opentelekomcloud",
    "alicloud",
    "oci",
    "openstack",
    "stackit",
    "ibm",
];

/// Does the provider take a default region from its provider block?
pub fn is_regional(local_name: &str) -> bool {
    REGIONAL_PROVIDERS.contains(&local_name)
}

/// Provider block arguments that name the default location.
const PROVIDER_REGION_ATTRS: &[&str] = &["region", "default_region", "zone"];

/// Where a resource is that writes no location when its provider's API chooses one (a Hetzner
/// server, `api_chooses_location`): unknown until it is made, at `location` (the resource).
pub fn chosen_by_api(kb: &KnowledgeBase, service: &Service, location: Location) -> Resolution {
    Resolution::Blocked {
        blocker: format!(
            "no {} written: the {} API chooses where to make it",
            region_attributes(Some(service)).join(" or "),
            kb.provider_name(&service.provider)
        ),
        location,
    }
}

#[derive(Clone, Debug)]
pub enum Resolution {
    Region {
        value: String,
        location: Location,
        inherited: bool,
    },
    Blocked {
        blocker: String,
        location: Location,
    },
    None,
}

impl Resolution {
    /// Where something of a regional provider (`aws`) is when its module configures no such
    /// provider: in the region the provider uses when told none (Scaleway's `fr-par`), placed
    /// at `own`; else unresolved, at `location`.
    pub fn unconfigured(
        kb: &KnowledgeBase,
        local_name: &str,
        location: Location,
        own: impl FnOnce() -> Location,
    ) -> Resolution {
        match kb.terraform_default_region(local_name) {
            Some(region) => Resolution::Region {
                value: region.to_string(),
                location: own(),
                inherited: false,
            },
            None => Resolution::Blocked {
                blocker: format!("provider \"{local_name}\" has no region in this module"),
                location,
            },
        }
    }
}

/// What a module call hands to the module it calls: variable values and provider configurations.
#[derive(Clone, Debug, Default)]
pub struct CallContext {
    pub inputs: Inputs,
    /// (provider local name, alias inside the called module, where the caller's provider is).
    pub providers: Vec<(String, Option<String>, Resolution)>,
}

/// What every resolver of a module's instances looks up, made once per instance: one made
/// per `for_each` key made it again for each key of each resource.
pub struct ModuleIndex {
    by_address: HashMap<String, usize>,
    /// First resource of each provider, where a missing provider block is reported.
    first_of_provider: HashMap<String, Location>,
}

impl ModuleIndex {
    pub fn of(module: &Module<'_>) -> Self {
        let mut by_address = HashMap::new();
        let mut first_of_provider = HashMap::new();
        for (i, r) in module.resources.iter().enumerate() {
            by_address.insert(format!("{}.{}", r.type_name, r.name), i);
            first_of_provider
                .entry(provider_local_name(&r.type_name).to_string())
                .or_insert_with(|| r.block.location(&r.route));
        }
        ModuleIndex {
            by_address,
            first_of_provider,
        }
    }
}

/// The modules a module instance's calls may read, to follow `module.<call>.<output>` to what
/// it comes to: the scanned and installed module folders, the instance's folder, its root
/// module's folder, its call key (`network.subnets`) and depth.
#[derive(Clone, Copy)]
pub struct Calls<'m, 'a> {
    pub modules: &'m BTreeMap<&'m str, Module<'a>>,
    pub installed: &'m Installed,
    pub folder: &'m str,
    pub root: &'m str,
    pub key: &'m str,
    pub depth: usize,
}

/// What `Resolver::eval_with_known` is given to evaluate an argument with.
pub struct Given<'i> {
    /// The resource whose location is being resolved, which its own argument does not place.
    resource: Option<usize>,
    /// Any attribute of a resource named is taken as where it is (`placed_key`): an output or
    /// an argument that names a parent by its id (`ionoscloud_datacenter.main[0].id`).
    placing: bool,
    /// The inputs evaluated over; the resolver's instance's own when `None`.
    inputs: Option<&'i Inputs>,
}

impl<'i> Given<'i> {
    /// For a location argument of the resource at `index`.
    pub fn locating(index: usize) -> Self {
        Given {
            resource: Some(index),
            placing: false,
            inputs: None,
        }
    }

    /// For an argument that names a parent, or an output, over `inputs`.
    pub fn placing(inputs: Option<&'i Inputs>) -> Self {
        Given {
            resource: None,
            placing: true,
            inputs,
        }
    }

    /// For a module call's argument, over the caller's `inputs`: only a location is read of
    /// a resource it names.
    pub fn over(inputs: &'i Inputs) -> Self {
        Given {
            resource: None,
            placing: false,
            inputs: Some(inputs),
        }
    }
}

pub struct Resolver<'m, 'a> {
    module: &'m Module<'a>,
    index: &'m ModuleIndex,
    context: CallContext,
    kb: &'m KnowledgeBase,
    /// What each resource resolved to, by index; kept sparse, as a resolver made for one
    /// `for_each` key resolves one resource and what it refers to.
    memo: HashMap<usize, Resolution>,
    visiting: std::collections::HashSet<usize>,
    /// What each provider configuration gives, by local name and alias: the same for every
    /// resource of the module.
    providers: Vec<(String, Option<String>, Option<Resolution>)>,
    /// The modules this one calls, when outputs are followed.
    calls: Option<Calls<'m, 'a>>,
    /// What each output followed came to, by call and output name; `None` while it is being
    /// followed, so that outputs that read each other stop.
    outputs: HashMap<(String, String), Option<Eval>>,
}

impl<'m, 'a> Resolver<'m, 'a> {
    /// `index` is `ModuleIndex::of(module)`.
    pub fn new(
        module: &'m Module<'a>,
        index: &'m ModuleIndex,
        kb: &'m KnowledgeBase,
        context: CallContext,
    ) -> Self {
        Resolver {
            module,
            index,
            context,
            kb,
            memo: HashMap::new(),
            visiting: std::collections::HashSet::new(),
            providers: Vec::new(),
            calls: None,
            outputs: HashMap::new(),
        }
    }

    /// Follows outputs of the modules `calls` reads (`module.network.datacenter_id`) to where
    /// what they hand on is.
    pub fn following(mut self, calls: Calls<'m, 'a>) -> Self {
        self.calls = Some(calls);
        self
    }

    /// What the output `output` of the module call `call` comes to, once per resolver.
    fn output(&mut self, call: &str, output: &str) -> Option<Eval> {
        let key = (call.to_string(), output.to_string());
        if let Some(done) = self.outputs.get(&key) {
            return done.clone();
        }
        self.outputs.insert(key.clone(), None);
        let found = self.follow_output(call, output);
        self.outputs.insert(key, found.clone());
        found
    }

    /// The output's `value` evaluated in the called module with the inputs the call hands in:
    /// a resource it names (its location, or its id: `ionoscloud_datacenter.main[0].id`) is
    /// taken as where that resource is.
    fn follow_output(&mut self, call_name: &str, output: &str) -> Option<Eval> {
        let calls = self.calls?;
        if calls.depth >= super::MAX_MODULE_DEPTH {
            return None;
        }
        let module = self.module;
        let call = module.calls.iter().find(|c| c.name == call_name)?;
        let key = if calls.key.is_empty() {
            call_name.to_string()
        } else {
            format!("{}.{call_name}", calls.key)
        };
        let target = super::call_target(
            (calls.modules, calls.installed),
            (calls.folder, calls.root),
            &key,
            &call.source,
        )?;
        let child = calls.modules.get(target.as_str())?;
        let (placed, route) = child.output(output)?;
        let inputs = self.context.inputs.clone();
        let context = super::call_context(module, self, &inputs, call, child);
        let index = ModuleIndex::of(child);
        let mut inner = Resolver::new(child, &index, self.kb, context).following(Calls {
            folder: &target,
            key: &key,
            depth: calls.depth + 1,
            ..calls
        });
        Some(
            match child.eval(placed.doc, placed.node, route, &inner.context.inputs) {
                Eval::Reference { address } => match inner.resolve_address(&address)? {
                    Resolution::Region {
                        value, location, ..
                    } => Eval::Literal { value, location },
                    Resolution::Blocked { blocker, location } => {
                        Eval::Blocked { blocker, location }
                    }
                    Resolution::None => return None,
                },
                blocked @ Eval::Blocked { .. } => inner
                    .eval_with_known(placed.doc, placed.node, route, Given::placing(None))
                    .unwrap_or(blocked),
                other => other,
            },
        )
    }

    pub fn resolve(&mut self, index: usize) -> Resolution {
        if let Some(done) = self.memo.get(&index) {
            return done.clone();
        }
        if index >= self.module.resources.len() || !self.visiting.insert(index) {
            return Resolution::None;
        }
        let result = self.compute(index);
        self.visiting.remove(&index);
        self.memo.insert(index, result.clone());
        result
    }

    /// What an evaluated location argument gives; `own` is the file and line of the argument
    /// (a value written elsewhere is inherited).
    fn resolution_of(&mut self, eval: Eval, own: (&str, u32)) -> Option<Resolution> {
        match eval {
            Eval::Literal { value, location } => {
                let inherited = (&*location.path, location.start_line) != own;
                Some(Resolution::Region {
                    value,
                    location,
                    inherited,
                })
            }
            Eval::Blocked { blocker, location } => Some(Resolution::Blocked { blocker, location }),
            Eval::Unset => None,
            Eval::Collection { location, .. }
            | Eval::Members { location, .. }
            | Eval::Items { location, .. } => Some(Resolution::Blocked {
                blocker: "a list or map, not one location".into(),
                location,
            }),
            Eval::Reference { address } => {
                let target = *self.index.by_address.get(&address)?;
                match self.resolve(target) {
                    Resolution::Region {
                        value, location, ..
                    } => Some(Resolution::Region {
                        value,
                        location,
                        inherited: true,
                    }),
                    other => Some(other),
                }
            }
        }
    }

    /// An argument `Module::eval` could not settle, evaluated again with what the resolver
    /// knows of what it names (in functions, indexes and conditionals, or through locals): the
    /// locations of the resources that resolve to a region (`located_key`;
    /// `try(azurerm_resource_group.main[0].location, null)`), and what the outputs of the
    /// modules this one calls come to (`output_key`; `module.rg.location`). A reference
    /// Terraform rejects as a cycle is not followed (`visiting`). `None` when it names nothing
    /// known, or is still not one literal.
    pub fn eval_with_known(
        &mut self,
        doc: &crate::load::Document,
        node: &Node,
        route: &Route,
        given: Given<'_>,
    ) -> Option<Eval> {
        let referenced = self.module.referenced(node);
        let mut found: Vec<(String, Eval)> = Vec::new();
        for address in referenced.resources {
            let Some(&target) = self.index.by_address.get(&address) else {
                continue;
            };
            if Some(target) == given.resource || self.visiting.contains(&target) {
                continue;
            }
            if let Resolution::Region {
                value, location, ..
            } = self.resolve(target)
            {
                let located = Eval::Literal { value, location };
                if given.placing {
                    found.push((placed_key(&address), located.clone()));
                }
                found.push((located_key(&address), located));
            }
        }
        if self.calls.is_some() {
            for (call, output) in referenced.outputs {
                if let Some(value @ Eval::Literal { .. }) = self.output(&call, &output) {
                    found.push((output_key(&call, &output), value));
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        let mut inputs = given.inputs.unwrap_or(&self.context.inputs).clone();
        inputs.extend(found);
        match self.module.eval(doc, node, route, &inputs) {
            found @ Eval::Literal { .. } => Some(found),
            _ => None,
        }
    }

    fn compute(&mut self, index: usize) -> Resolution {
        let module = self.module;
        let Some(resource) = module.resources.get(index) else {
            return Resolution::None;
        };
        let rtype = self
            .kb
            .services
            .lookup(Format::Terraform, &resource.type_name);
        if rtype.is_some_and(|t| t.global) {
            return Resolution::None;
        }
        let body = resource.block.node;
        let doc = resource.block.doc;
        let mut zone_blocked: Option<Resolution> = None;
        let mut written = false;
        for attr in region_attributes(rtype) {
            // Looked up by its text: most resources write none of the attributes, and the
            // route is made only for the one written.
            if let Some(node) = body
                .path(attr)
                .filter(|n| !n.is_null() && n.items().is_empty())
            {
                written = true;
                let route = resource.route.join(&Route::parse(attr));
                let eval = match module.eval(doc, node, &route, &self.context.inputs) {
                    blocked @ Eval::Blocked { .. } => self
                        .eval_with_known(doc, node, &route, Given::locating(index))
                        .unwrap_or(blocked),
                    eval => eval,
                };
                // A DNS zone (`zone = "example.com"`) is not a place: no location id has a dot.
                if attr == "zone"
                    && matches!(&eval, Eval::Literal { value, .. } if value.contains('.'))
                {
                    continue;
                }
                match self.resolution_of(eval, (&doc.path, Location::start_line(node.span))) {
                    // An availability zone lies in the region the provider's API is called in
                    // (AWS, OpenStack): one not known here leaves the resource in the region
                    // the provider or a `region` argument gives, when they do.
                    Some(blocked @ Resolution::Blocked { .. }) if attr == "availability_zone" => {
                        zone_blocked.get_or_insert(blocked);
                    }
                    Some(found) => return found,
                    None => {}
                }
            }
        }
        // Where the provider makes the type when no location is written (IONOS Object Storage).
        if !written && let Some(default) = rtype.and_then(|t| t.default_location.as_deref()) {
            return Resolution::Region {
                value: default.to_string(),
                location: resource.block.location(&resource.route),
                inherited: false,
            };
        }
        match (self.placed_by_provider(index, rtype), zone_blocked) {
            (found @ Resolution::Region { .. }, _) | (found, None) => match (found, rtype) {
                // Nothing places it, and the provider's API chooses where (a Hetzner server
                // without `location` or `datacenter`).
                (Resolution::None, Some(t)) if !written && t.api_chooses_location => {
                    chosen_by_api(self.kb, t, resource.block.location(&resource.route))
                }
                (found, _) => found,
            },
            (_, Some(blocked)) => blocked,
        }
    }

    /// Where a resource is when no location argument of its own says: where its provider
    /// configuration is, or the resource it refers to.
    fn placed_by_provider(&mut self, index: usize, rtype: Option<&Service>) -> Resolution {
        let module = self.module;
        let Some(resource) = module.resources.get(index) else {
            return Resolution::None;
        };
        let body = resource.block.node;
        let doc = resource.block.doc;
        let local_name = provider_local_name(&resource.type_name).to_string();
        if let Some(node) = body.get("provider") {
            let text = expression_text(node)
                .or_else(|| node.as_str())
                .unwrap_or_default();
            let (name, alias) = text.split_once('.').unwrap_or((text, ""));
            let alias = (!alias.is_empty()).then_some(alias);
            return match self.provider_resolution(name, alias) {
                Some(found) => found,
                None if rtype.is_none() => Resolution::None,
                None => Resolution::Blocked {
                    blocker: format!("provider {text} (not configured in this module)"),
                    location: Location::of_node(
                        &doc.path,
                        doc.index,
                        node,
                        &resource.route.key("provider"),
                    ),
                },
            };
        }
        // Only types the table knows follow references: an unknown type (an action, a helper)
        // referring to a resource is not located where that resource is.
        let references = if rtype.is_some() { body.entries() } else { &[] };
        // What keeps the first resource referred to from being placed: this resource is where
        // that one is, so where the provider does not say, that is what keeps it unknown too.
        let mut referred_blocked: Option<Resolution> = None;
        for entry in references {
            if entry.key == "provider" {
                continue;
            }
            // What `Module::eval` would call a reference, read from the text alone, or an
            // instance of it (`google_storage_bucket.buckets[each.key].name`).
            if let Some(address) = expression_text(&entry.value).and_then(referred_resource)
                && self
                    .index
                    .by_address
                    .get(&address)
                    .is_some_and(|&t| t != index)
            {
                let own = (&*doc.path, Location::start_line(entry.value.span));
                match self.resolution_of(Eval::Reference { address }, own) {
                    Some(found @ Resolution::Region { .. }) => return found,
                    Some(blocked @ Resolution::Blocked { .. }) if referred_blocked.is_none() => {
                        referred_blocked = Some(blocked);
                    }
                    _ => {}
                }
            }
        }
        // The argument that names the parent (`datacenter_id`), when no resource of this
        // module is named: a caller's value or another module's output, which only the
        // deployment, or a module not read here, decides.
        if referred_blocked.is_none()
            && let Some(t) = rtype
        {
            for attr in &t.located_by {
                let Some(node) = body.get(attr) else {
                    continue;
                };
                let route = resource.route.key(attr);
                let eval = match module.eval(doc, node, &route, &self.context.inputs) {
                    // A resource in a conditional, another module's output: where the parent
                    // it hands on is.
                    blocked @ Eval::Blocked { .. } => self
                        .eval_with_known(doc, node, &route, Given::placing(None))
                        .unwrap_or(blocked),
                    eval => eval,
                };
                match eval {
                    Eval::Blocked { blocker, location } => {
                        referred_blocked = Some(Resolution::Blocked { blocker, location });
                    }
                    // A caller's resource, handed in: where it is (a module input that refers
                    // to a resource takes its location).
                    Eval::Literal { value, location }
                        if self.kb.resolve_region(&t.provider, &value).is_some() =>
                    {
                        return Resolution::Region {
                            value,
                            location,
                            inherited: true,
                        };
                    }
                    Eval::Literal { value, location } => {
                        referred_blocked = Some(Resolution::Blocked {
                            blocker: format!("{attr} {value:?}, a parent named by its id"),
                            location,
                        });
                    }
                    _ => continue,
                }
                break;
            }
        }
        // Types the table does not know may not be regional at all (IAM bindings, random ids):
        // they take a configured provider region but are never reported as unresolved. Nor is
        // a part of another resource that holds no data (a bucket's IAM member, its ACL): it is
        // where that resource is, which its own location says.
        let known = rtype.is_some_and(|t| t.part_of.is_none() || t.data_holding);
        match self.provider_resolution(&local_name, None) {
            Some(Resolution::Blocked { .. }) if !known => Resolution::None,
            Some(blocked @ Resolution::Blocked { .. }) => referred_blocked.unwrap_or(blocked),
            Some(found) => found,
            None if known && REGIONAL_PROVIDERS.contains(&local_name.as_str()) => referred_blocked
                .unwrap_or_else(|| {
                    let own = || resource.block.location(&resource.route);
                    let location = (self.index.first_of_provider.get(&local_name).cloned())
                        .unwrap_or_else(own);
                    Resolution::unconfigured(self.kb, &local_name, location, own)
                }),
            // A provider without a region of its own (Hetzner, IONOS): where the resource it
            // refers to is, unknown when that is.
            None if known => referred_blocked.unwrap_or(Resolution::None),
            None => Resolution::None,
        }
    }

    /// The knowledge the resolver reads (a provider's default region).
    pub fn knowledge(&self) -> &'m KnowledgeBase {
        self.kb
    }

    /// The location of a resource of this module by address (`azurerm_resource_group.main`).
    pub fn resolve_address(&mut self, address: &str) -> Option<Resolution> {
        let index = *self.index.by_address.get(address)?;
        Some(self.resolve(index))
    }

    /// The local names of the default (unaliased) provider configurations this module has:
    /// its own and those its caller passed in.
    pub fn default_providers(&self) -> Vec<String> {
        let own = self.module.providers.iter().filter(|p| p.alias.is_none());
        let given = self
            .context
            .providers
            .iter()
            .filter(|(_, a, _)| a.is_none());
        own.map(|p| p.local_name.clone())
            .chain(given.map(|(name, _, _)| name.clone()))
            .collect()
    }

    /// The location a provider configuration gives: this module's block, or the caller's.
    pub fn provider_resolution(
        &mut self,
        local_name: &str,
        alias: Option<&str>,
    ) -> Option<Resolution> {
        if let Some((_, _, known)) =
            (self.providers.iter()).find(|(name, a, _)| name == local_name && a.as_deref() == alias)
        {
            return known.clone();
        }
        let found = match self.module.provider(local_name, alias) {
            Some(block) => Some(self.provider_region(block)),
            None => self
                .context
                .providers
                .iter()
                .find(|(name, a, _)| name == local_name && a.as_deref() == alias)
                .map(|(_, _, resolution)| resolution.clone()),
        };
        self.providers.push((
            local_name.to_string(),
            alias.map(str::to_string),
            found.clone(),
        ));
        found
    }

    fn provider_region(&mut self, block: &ProviderBlock<'a>) -> Resolution {
        let doc = block.block.doc;
        for attr in PROVIDER_REGION_ATTRS {
            if let Some(node) = block.block.node.get(attr).filter(|n: &&Node| !n.is_null()) {
                let route = block.route.key(attr);
                return match self.module.eval(doc, node, &route, &self.context.inputs) {
                    Eval::Literal { value, location } => Resolution::Region {
                        value,
                        location,
                        inherited: true,
                    },
                    Eval::Blocked { blocker, location } => {
                        Resolution::Blocked { blocker, location }
                    }
                    Eval::Reference { .. }
                    | Eval::Unset
                    | Eval::Collection { .. }
                    | Eval::Members { .. }
                    | Eval::Items { .. } => Resolution::Blocked {
                        blocker: expression_text(node).unwrap_or_default().to_string(),
                        location: Location::of_node(&doc.path, doc.index, node, &route),
                    },
                };
            }
        }
        if let Some(region) = self.kb.terraform_default_region(&block.local_name) {
            Resolution::Region {
                value: region.to_string(),
                location: block.block.location(&block.route),
                inherited: true,
            }
        } else if REGIONAL_PROVIDERS.contains(&block.local_name.as_str()) {
            Resolution::Blocked {
                blocker: format!("provider \"{}\" without region", block.local_name),
                location: block.block.location(&block.route),
            }
        } else {
            Resolution::None
        }
    }
}
