//! Load WASM plugins and call them inside a sandbox.
//!
//! One [`Engine`] per process (with an epoch ticker thread as the wall-clock
//! backstop); per plugin a compiled component (cached by content hash), a
//! pre-linked instance template, and one live instance that is reused across
//! batches and replaced after a trap, since a trap poisons it.
//!
//! A plugin imports only the contract's `host` interface. Anything else it
//! imports (the WASI functions the Rust standard library links for
//! `wasm32-wasip2`) is defined as a trap: no files, network, clock,
//! randomness or environment.

mod ahead;
#[doc(hidden)]
pub mod bindings;
pub mod cache;
#[doc(hidden)]
pub mod convert;
pub mod limits;
pub mod registry;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use projection_sdk::{Description, Event, EventFilter, Mutation, ProjectionError};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};

pub use ahead::LookupCounts;
use bindings::projector::projection::types as w;
use bindings::{Plugin as Bindings, PluginPre};
pub use cache::Origin;
pub use limits::Limits;

use crate::store::Db;
use crate::store::lane::Lane;

/// The contract version this host serves (the WIT package version).
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Plugin failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {cause}")]
    Read {
        /// File.
        path: PathBuf,
        /// Why (in the message; not also a `source`, so `{:#}` prints it once).
        cause: std::io::Error,
    },
    /// Not a component, or not one this host can serve.
    #[error("invalid plugin {path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The plugin trapped (panic, out of memory, bad instruction).
    #[error("plugin {family} trapped: {message}")]
    Trap {
        /// Family.
        family: String,
        /// Trap message.
        message: String,
    },
    /// The plugin ran out of fuel or time.
    #[error("plugin {family} exceeded its time limit: {message}")]
    Timeout {
        /// Family.
        family: String,
        /// Which limit.
        message: String,
    },
    /// The plugin returned more than allowed.
    #[error("plugin {family} returned too much output: {message}")]
    OutputTooLarge {
        /// Family.
        family: String,
        /// What was too large.
        message: String,
    },
    /// The host failed while serving an event look-up (the store failed):
    /// the batch fails, no event is blamed.
    #[error("event look-up failed: {0}")]
    Lookup(String),
    /// The plugin made a look-up the host does not answer: one matching more
    /// events than [`crate::source::MAX_LOOKUP_EVENTS`], more look-ups for
    /// one event than [`Limits::max_lookups_per_event`], or one naming an
    /// event outside the batch. The call traps; the event fails.
    #[error("plugin {family}: event look-up refused: {message}")]
    LookupRefused {
        /// Family.
        family: String,
        /// Which limit, and by how much.
        message: String,
    },
}

impl PluginError {
    /// Whether the fault lies with the plugin and one event (as opposed to
    /// the host or the database).
    pub fn is_plugin_fault(&self) -> bool {
        !matches!(self, PluginError::Lookup(_) | PluginError::Read { .. })
    }
}

/// Where event look-ups are answered from.
#[derive(Debug, Clone, Default)]
pub enum LookupSource {
    /// Nothing: every look-up finds no events.
    #[default]
    Nothing,
    /// The event store. Look-ups the batch's events are expected to make
    /// are answered ahead, in a few queries (see `ahead.rs`); the others
    /// one by one. The answers are the same either way.
    Store(Db),
    /// The event store, one query per look-up (the plain way, and the
    /// reference handler's).
    StoreOneByOne(Db),
    /// A fixed list (conformance cases).
    Events(Vec<Event>),
}

/// Why a look-up was not answered. The import traps (the plugin never sees
/// an empty or shortened answer); the store keeps the reason for
/// [`Plugin::handle`].
#[derive(Debug, Clone)]
enum LookupFault {
    /// The host could not answer (the store failed): the batch fails.
    Host(String),
    /// The plugin asked for more than the host answers: the event fails.
    Plugin(String),
}

impl LookupFault {
    fn message(&self) -> &str {
        match self {
            LookupFault::Host(m) | LookupFault::Plugin(m) => m,
        }
    }

    fn from_source(error: crate::source::LookupError) -> LookupFault {
        match error {
            crate::source::LookupError::Store(e) => LookupFault::Host(e.to_string()),
            other => LookupFault::Plugin(other.to_string()),
        }
    }

    fn into_error(self, family: &str) -> PluginError {
        match self {
            LookupFault::Host(message) => PluginError::Lookup(message),
            LookupFault::Plugin(message) => PluginError::LookupRefused {
                family: family.to_owned(),
                message,
            },
        }
    }
}

/// The fault for the look-up after `done` look-ups of one event, if over `max`.
fn too_many_lookups(done: u32, max: u32) -> Option<LookupFault> {
    (done > max).then(|| {
        LookupFault::Plugin(format!(
            "more than {max} look-ups for one event (limit {max})"
        ))
    })
}

/// What a plugin instance's store holds.
struct HostState {
    limits: StoreLimits,
    family: String,
    lookup: LookupSource,
    batch: Vec<Event>,
    /// Look-ups made so far, per event of the batch.
    lookups: Vec<u32>,
    max_lookups: u32,
    /// Answers fetched ahead for this call's look-ups.
    ahead: ahead::Answers,
    /// While probing: the look-ups made that `ahead` does not answer.
    probe: Option<Vec<(u32, EventFilter)>>,
    /// How this call's look-ups were answered.
    counts: LookupCounts,
    lookup_fault: Option<LookupFault>,
    runtime: Option<tokio::runtime::Handle>,
    /// The plugin's last panic message (its panic hook logs it).
    panic: Option<String>,
}

impl HostState {
    /// Answer a look-up truthfully, or say why not.
    fn answer(
        &mut self,
        event_index: u32,
        filter: &EventFilter,
    ) -> Result<Vec<Event>, LookupFault> {
        let n_events = self.batch.len();
        let index = usize::try_from(event_index)
            .ok()
            .filter(|i| *i < n_events)
            .ok_or_else(|| {
                LookupFault::Plugin(format!(
                    "find-events named event {event_index} of a batch of {n_events} events"
                ))
            })?;
        if let Some(recorded) = &mut self.probe {
            if let Some(found) = ahead::answered(&self.ahead, event_index, filter) {
                return Ok(found.clone());
            }
            // Only look-ups of named aggregates are answered ahead; a few
            // per event is what families make.
            if !filter.aggregate_ids.is_empty()
                && recorded.len() < n_events.saturating_mul(ahead::RECORDED_PER_EVENT)
            {
                recorded.push((event_index, filter.clone()));
            }
            return Ok(Vec::new());
        }
        let done = self
            .lookups
            .get_mut(index)
            .map(|n| {
                *n = n.saturating_add(1);
                *n
            })
            .unwrap_or(u32::MAX);
        if let Some(fault) = too_many_lookups(done, self.max_lookups) {
            return Err(fault);
        }
        if let Some(found) = ahead::answered(&self.ahead, event_index, filter) {
            self.counts.ahead += 1;
            return Ok(found.clone());
        }
        let before = &self.batch[index];
        match &self.lookup {
            LookupSource::Nothing => Ok(Vec::new()),
            LookupSource::Events(events) => {
                let found: Vec<Event> = events
                    .iter()
                    .filter(|e| e.instance_id == before.instance_id && filter.matches(e))
                    .cloned()
                    .collect();
                let limit = crate::source::MAX_LOOKUP_EVENTS;
                if i64::try_from(found.len()).unwrap_or(i64::MAX) > limit {
                    return Err(LookupFault::from_source(
                        crate::source::LookupError::TooManyEvents { limit },
                    ));
                }
                Ok(found)
            }
            LookupSource::Store(db) | LookupSource::StoreOneByOne(db) => {
                self.counts.one_by_one += 1;
                let runtime = self.runtime.as_ref().ok_or_else(|| {
                    LookupFault::Host("no async runtime to query the event store on".into())
                })?;
                runtime
                    .block_on(crate::source::find_events(db, before, filter))
                    .map_err(LookupFault::from_source)
            }
        }
    }
}

impl bindings::projector::projection::types::Host for HostState {}

impl bindings::projector::projection::host::Host for HostState {
    fn find_events(
        &mut self,
        event_index: u32,
        filter: w::EventFilter,
    ) -> wasmtime::Result<Vec<w::Event>> {
        let filter: EventFilter = convert::filter(filter);
        match self.answer(event_index, &filter) {
            Ok(found) => Ok(found.iter().map(convert::event_to_wit).collect()),
            Err(fault) => {
                let message = fault.message().to_owned();
                self.lookup_fault = Some(fault);
                Err(wasmtime::Error::msg(message))
            }
        }
    }

    fn log(&mut self, level: w::Level, message: String) {
        if self.probe.is_some() {
            // A probe's lines would repeat the call's.
            return;
        }
        let family = self.family.as_str();
        match level {
            w::Level::Debug => tracing::debug!(family, "{message}"),
            w::Level::Info => tracing::info!(family, "{message}"),
            w::Level::Warn => tracing::warn!(family, "{message}"),
            w::Level::Error => {
                tracing::error!(family, "{message}");
                if let Some(panic) = message.strip_prefix("panic: ") {
                    self.panic = Some(panic.to_owned());
                }
            }
        }
    }
}

/// The process-wide engine, with its epoch ticker.
fn engine() -> Result<&'static Engine, PluginError> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| format!("{e:#}"))?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("projector-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(limits::EPOCH_TICK);
                    ticker.increment_epoch();
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(engine)
    });
    engine.as_ref().map_err(|message| PluginError::Invalid {
        path: PathBuf::new(),
        message: format!("cannot start the WASM engine: {message}"),
    })
}

/// A loaded plugin: its description and a live instance.
pub struct Plugin {
    /// What the plugin declared.
    pub description: Description,
    /// SHA-256 of its bytes.
    pub hash: String,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// Whether it was compiled or came from the cache.
    pub origin: Origin,
    /// Whether it came from the deployment registry (not the plugin directory).
    pub deployed: bool,
    limits: Limits,
    pre: Option<PluginPre<HostState>>,
    live: Option<(Store<HostState>, Bindings)>,
    native: Option<NativeHandle>,
    /// Set while the plugin builds its family aside: the lane, and the
    /// family's own description ([`Plugin::enter_lane`]).
    lane: Option<(Lane, Description)>,
    /// Per event type handled so far, whether its events made look-ups:
    /// the events to probe are those of types that did and of new types.
    learned: HashMap<String, bool>,
    /// How its look-ups were answered.
    counts: LookupCounts,
}

/// A family's handler compiled natively into the calling binary (the bench:
/// the same family without WASM).
pub type NativeHandle = fn(&Event, &projection_sdk::Context<'_>) -> Outcome;

/// Look-ups for a native family, answered from the event store. The SDK's
/// `Lookup` cannot fail, so after a fault every look-up answers nothing and
/// the handler's outcome is replaced by the fault (see [`handle_native`]).
struct StoreLookup<'a> {
    db: &'a Db,
    before: &'a Event,
    runtime: &'a tokio::runtime::Handle,
    max_lookups: u32,
    done: std::cell::Cell<u32>,
    fault: std::cell::RefCell<Option<LookupFault>>,
}

impl projection_sdk::Lookup for StoreLookup<'_> {
    fn find_events(&self, filter: &EventFilter) -> Vec<Event> {
        if self.fault.borrow().is_some() {
            return Vec::new();
        }
        let done = self.done.get().saturating_add(1);
        self.done.set(done);
        let result = match too_many_lookups(done, self.max_lookups) {
            Some(fault) => Err(fault),
            None => self
                .runtime
                .block_on(crate::source::find_events(self.db, self.before, filter))
                .map_err(LookupFault::from_source),
        };
        result.unwrap_or_else(|fault| {
            *self.fault.borrow_mut() = Some(fault);
            Vec::new()
        })
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("family", &self.description.name)
            .field("version", &self.description.version)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// The outcome of one event.
pub type Outcome = Result<Vec<Mutation>, ProjectionError>;

impl Plugin {
    /// Load a plugin file, compiling it or taking it from `cache_dir`.
    pub fn load(
        path: &Path,
        cache_dir: Option<&Path>,
        limits: Limits,
    ) -> Result<Plugin, PluginError> {
        let bytes = std::fs::read(path).map_err(|cause| PluginError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Plugin::from_bytes(&bytes, path, cache_dir, limits)
    }

    /// Load a plugin from its bytes (`path` names it in messages).
    pub fn from_bytes(
        bytes: &[u8],
        path: &Path,
        cache_dir: Option<&Path>,
        limits: Limits,
    ) -> Result<Plugin, PluginError> {
        let engine = engine()?;
        let invalid = |message: String| PluginError::Invalid {
            path: path.to_owned(),
            message,
        };
        if !wasmparser_is_component(bytes) {
            return Err(invalid(
                "not a WebAssembly component (build it for wasm32-wasip2)".into(),
            ));
        }
        let hash = cache::content_hash(bytes);
        let (component, origin) = cache::load_component(engine, cache_dir, bytes, &hash, path)?;
        check_contract(engine, &component).map_err(invalid)?;
        let mut linker: Linker<HostState> = Linker::new(engine);
        Bindings::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| invalid(format!("{e:#}")))?;
        linker
            .define_unknown_imports_as_traps(&component)
            .map_err(|e| invalid(format!("{e:#}")))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| invalid(format!("{e:#}")))?;
        let pre = PluginPre::new(instance_pre).map_err(|e| invalid(format!("{e:#}")))?;
        let mut plugin = Plugin {
            description: Description::new("", ""),
            hash,
            path: path.to_owned(),
            origin,
            deployed: false,
            limits,
            pre: Some(pre),
            live: None,
            native: None,
            lane: None,
            learned: HashMap::new(),
            counts: LookupCounts::default(),
        };
        let description = plugin.describe().map_err(|e| match e {
            PluginError::Trap { message, .. } if message.contains("type mismatch") => invalid(format!(
                "its exports do not match contract {CONTRACT_VERSION} of this host ({message}); \
                 rebuild it against this host's projection-sdk"
            )),
            other => invalid(other.to_string()),
        })?;
        crate::store::ddl::check_description(&description).map_err(|e| invalid(e.to_string()))?;
        plugin.description = description;
        Ok(plugin)
    }

    /// The family name.
    pub fn family(&self) -> &str {
        &self.description.name
    }

    /// How the plugin's look-ups were answered since it was loaded (or
    /// forked).
    pub fn lookup_counts(&self) -> LookupCounts {
        self.counts
    }

    fn new_store(&self) -> Store<HostState> {
        let state = HostState {
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            family: self.description.name.clone(),
            lookup: LookupSource::Nothing,
            batch: Vec::new(),
            lookups: Vec::new(),
            max_lookups: self.limits.max_lookups_per_event,
            ahead: ahead::Answers::new(),
            probe: None,
            counts: LookupCounts::default(),
            lookup_fault: None,
            runtime: None,
            panic: None,
        };
        let engine = match &self.pre {
            Some(pre) => pre.engine().clone(),
            None => Engine::default(),
        };
        let mut store = Store::new(&engine, state);
        store.limiter(|s| &mut s.limits);
        store
    }

    fn instance(&mut self) -> Result<&mut (Store<HostState>, Bindings), PluginError> {
        if self.live.is_none() {
            let mut store = self.new_store();
            store.set_fuel(u64::MAX).map_err(|e| self.trap(&e))?;
            store.set_epoch_deadline(self.limits.deadline_ticks());
            let pre = self.pre.as_ref().ok_or_else(|| PluginError::Invalid {
                path: self.path.clone(),
                message: "a native family has no component".into(),
            })?;
            let bindings = pre.instantiate(&mut store).map_err(|e| self.trap(&e))?;
            self.live = Some((store, bindings));
        }
        self.live.as_mut().ok_or_else(|| PluginError::Invalid {
            path: self.path.clone(),
            message: "no live instance after instantiation".into(),
        })
    }

    fn trap(&self, error: &wasmtime::Error) -> PluginError {
        let family = self.description.name.clone();
        // The root cause, without the WASM backtrace; a panic's own message
        // when the plugin's panic hook reported one.
        let panic = self
            .live
            .as_ref()
            .and_then(|(store, _)| store.data().panic.clone());
        let message = match panic {
            Some(panic) => format!("panicked: {panic}"),
            None => error.root_cause().to_string(),
        };
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => PluginError::Timeout {
                family,
                message: format!(
                    "out of fuel ({} per event; an instruction costs one, a byte of a bulk \
                     memory copy or fill one)",
                    self.limits.fuel_per_event
                ),
            },
            Some(Trap::StackOverflow) => PluginError::Trap {
                family,
                message: "stack overflow (wasm call stack exhausted)".into(),
            },
            Some(Trap::Interrupt) => PluginError::Timeout {
                family,
                message: "wall-clock time-out".into(),
            },
            _ => PluginError::Trap { family, message },
        }
    }

    fn describe(&mut self) -> Result<Description, PluginError> {
        let (store, bindings) = self.instance()?;
        let result = bindings
            .projector_projection_family()
            .call_describe(&mut *store);
        match result {
            Ok(d) => Ok(convert::description(d)),
            Err(e) => {
                let err = self.trap(&e);
                self.live = None;
                Err(err)
            }
        }
    }

    /// Build the family aside: from now on the plugin describes the lane's
    /// tables and its mutations write them ([`Lane`]), until
    /// [`Plugin::leave_lane`]. Entering another lane leaves the first.
    pub fn enter_lane(&mut self, lane: Lane) {
        self.leave_lane();
        let lane_description = lane.describe(&self.description);
        let canonical = std::mem::replace(&mut self.description, lane_description);
        self.lane = Some((lane, canonical));
    }

    /// Back to the family's own tables.
    pub fn leave_lane(&mut self) {
        if let Some((_, canonical)) = self.lane.take() {
            self.description = canonical;
        }
    }

    /// The family's own description, in a lane or not.
    pub fn canonical(&self) -> &Description {
        self.lane.as_ref().map_or(&self.description, |(_, d)| d)
    }

    /// Handle a batch; one outcome per event, in order. In a lane, the
    /// mutations are renamed to the lane's tables.
    ///
    /// A trap, time-out or oversized output fails the whole call and discards
    /// the instance; the caller narrows the batch down to the bad event.
    pub fn handle(
        &mut self,
        events: &[Event],
        lookup: LookupSource,
    ) -> Result<Vec<Outcome>, PluginError> {
        let outcomes = self.handle_own(events, lookup)?;
        let Some((lane, _)) = &self.lane else {
            return Ok(outcomes);
        };
        let lane = *lane;
        Ok(outcomes
            .into_iter()
            .map(|o| o.map(|ms| ms.into_iter().map(|m| lane.mutation(m)).collect()))
            .collect())
    }

    fn handle_own(
        &mut self,
        events: &[Event],
        lookup: LookupSource,
    ) -> Result<Vec<Outcome>, PluginError> {
        if let Some(native) = self.native {
            return handle_native(native, events, &lookup, &self.limits, self.family());
        }
        let limits = self.limits;
        let wit_events: Vec<w::Event> = events.iter().map(convert::event_to_wit).collect();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let answers = match (&lookup, &runtime) {
            (LookupSource::Store(db), Some(runtime)) => self.look_ahead(events, db, runtime)?,
            _ => ahead::Answers::new(),
        };
        let path = self.path.clone();
        let (store, bindings) = self.instance()?;
        {
            let state = store.data_mut();
            state.batch = events.to_vec();
            state.lookups = vec![0; events.len()];
            state.max_lookups = limits.max_lookups_per_event;
            state.ahead = answers;
            state.probe = None;
            state.counts = LookupCounts::default();
            state.lookup = lookup;
            state.lookup_fault = None;
            state.panic = None;
            state.runtime = runtime;
        }
        let result = call_handle(store, bindings, &limits, &path, &wit_events)?;
        let state = store.data_mut();
        let lookup_fault = state.lookup_fault.take();
        let lookups = std::mem::take(&mut state.lookups);
        let counts = state.counts;
        state.batch.clear();
        state.ahead.clear();
        state.lookup = LookupSource::Nothing;
        self.learn(events, &lookups, counts);
        if let Some(fault) = lookup_fault {
            // The import trapped: the call failed and the instance with it.
            self.live = None;
            return Err(fault.into_error(&self.description.name));
        }
        let outcomes = match result {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let err = self.trap(&e);
                self.live = None;
                return Err(err);
            }
        };
        if outcomes.len() != events.len() {
            self.live = None;
            return Err(PluginError::Trap {
                family: self.description.name.clone(),
                message: format!(
                    "returned {} outcomes for {} events",
                    outcomes.len(),
                    events.len()
                ),
            });
        }
        let mut size = 0usize;
        let mut converted = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            converted.push(match outcome {
                Ok(mutations) => {
                    if mutations.len() > limits.max_mutations_per_event {
                        return Err(self.too_large(format!(
                            "{} mutations for one event (limit {})",
                            mutations.len(),
                            limits.max_mutations_per_event
                        )));
                    }
                    Ok(mutations
                        .into_iter()
                        .map(|m| convert::mutation(m, &mut size))
                        .collect())
                }
                Err(e) => Err(convert::error(e)),
            });
            if size > limits.max_output_bytes {
                return Err(self.too_large(format!("more than {} bytes", limits.max_output_bytes)));
            }
        }
        Ok(converted)
    }

    /// Remember the event types that looked events up (the events to probe
    /// next time), and count how the call's look-ups were answered.
    fn learn(&mut self, events: &[Event], lookups: &[u32], counts: LookupCounts) {
        for (event, n) in events.iter().zip(lookups) {
            match self.learned.get_mut(&event.event_type) {
                Some(looks_up) => *looks_up |= *n > 0,
                None => {
                    self.learned.insert(event.event_type.clone(), *n > 0);
                }
            }
        }
        self.counts += counts;
    }

    fn too_large(&mut self, message: String) -> PluginError {
        self.live = None;
        PluginError::OutputTooLarge {
            family: self.description.name.clone(),
            message,
        }
    }
}

impl Plugin {
    /// Another instance of the same plugin, sharing its compiled code: a
    /// worker applies some of the family's units with it while this one
    /// applies others. It is instantiated at its first call.
    pub fn fork(&self) -> Plugin {
        Plugin {
            description: self.description.clone(),
            hash: self.hash.clone(),
            path: self.path.clone(),
            origin: self.origin,
            deployed: self.deployed,
            limits: self.limits,
            pre: self.pre.clone(),
            live: None,
            native: self.native,
            lane: self.lane.clone(),
            learned: self.learned.clone(),
            counts: LookupCounts::default(),
        }
    }

    /// A family compiled natively: same description and handler as its
    /// plugin, called directly (for measuring what WASM costs).
    pub fn native(description: Description, handle: NativeHandle) -> Plugin {
        let hash = format!("native-{}", description.name);
        Plugin {
            path: PathBuf::from(format!("native:{}", description.name)),
            description,
            hash,
            origin: Origin::Compiled,
            deployed: false,
            limits: Limits::default(),
            pre: None,
            live: None,
            native: Some(handle),
            lane: None,
            learned: HashMap::new(),
            counts: LookupCounts::default(),
        }
    }
}

/// Give a call of `handle` on `events` its budget (fuel for that many
/// events, the wall-clock deadline) and make it: the call's own result, or
/// the error of a budget that could not be set.
fn call_handle(
    store: &mut Store<HostState>,
    bindings: &Bindings,
    limits: &Limits,
    path: &Path,
    events: &[w::Event],
) -> Result<wasmtime::Result<Vec<w::Outcome>>, PluginError> {
    let n_events = u64::try_from(events.len()).unwrap_or(u64::MAX).max(1);
    store
        .set_fuel(limits.fuel_per_event.saturating_mul(n_events))
        .map_err(|e| PluginError::Invalid {
            path: path.to_owned(),
            message: format!("cannot set the call's fuel: {e}"),
        })?;
    store.set_epoch_deadline(limits.deadline_ticks());
    Ok(bindings
        .projector_projection_family()
        .call_handle(&mut *store, events))
}

/// Run a native family on a batch with look-ups from `lookup`: the same
/// outcomes as its plugin, a store failure failing the batch and a refused
/// look-up the event.
fn handle_native(
    handle: NativeHandle,
    events: &[Event],
    lookup: &LookupSource,
    limits: &Limits,
    family: &str,
) -> Result<Vec<Outcome>, PluginError> {
    let runtime = tokio::runtime::Handle::try_current().ok();
    events
        .iter()
        .map(|event| match (lookup, &runtime) {
            (LookupSource::Store(_) | LookupSource::StoreOneByOne(_), None) => Err(
                PluginError::Lookup("no async runtime to query the event store on".into()),
            ),
            (LookupSource::Store(db) | LookupSource::StoreOneByOne(db), Some(runtime)) => {
                let store = StoreLookup {
                    db,
                    before: event,
                    runtime,
                    max_lookups: limits.max_lookups_per_event,
                    done: std::cell::Cell::new(0),
                    fault: std::cell::RefCell::new(None),
                };
                let outcome = handle(event, &projection_sdk::Context::new(&store));
                match store.fault.into_inner() {
                    Some(LookupFault::Host(message)) => Err(PluginError::Lookup(message)),
                    Some(LookupFault::Plugin(message)) => Ok(Err(ProjectionError::Failed(
                        PluginError::LookupRefused {
                            family: family.to_owned(),
                            message,
                        }
                        .to_string(),
                    ))),
                    None => Ok(outcome),
                }
            }
            (LookupSource::Events(events), _) => Ok({
                let list = projection_sdk::EventList(
                    events
                        .iter()
                        .filter(|e| e.instance_id == event.instance_id)
                        .cloned()
                        .collect(),
                );
                handle(event, &projection_sdk::Context::new(&list))
            }),
            (LookupSource::Nothing, _) => Ok(handle(
                event,
                &projection_sdk::Context::new(&projection_sdk::NoEvents),
            )),
        })
        .collect()
}

/// Whether the bytes are a component (not a core module).
fn wasmparser_is_component(bytes: &[u8]) -> bool {
    // Preamble: magic, then version 0x0d and layer 0x01 for components.
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [0x01, 0x00]
}

/// Refuse a component built against another major contract version.
fn check_contract(engine: &Engine, component: &Component) -> Result<(), String> {
    let wanted = format!("projector:projection/family@{CONTRACT_VERSION}");
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    if exports.contains(&wanted) {
        return Ok(());
    }
    match exports
        .iter()
        .find(|e| e.starts_with("projector:projection/family@"))
    {
        Some(other) => Err(format!(
            "it was built for contract {}, this host serves {CONTRACT_VERSION}; rebuild it against projection-sdk {CONTRACT_VERSION}",
            other.trim_start_matches("projector:projection/family@")
        )),
        None => Err(format!(
            "it does not export {wanted} (exports: {}); is it a projector plugin?",
            if exports.is_empty() {
                "none".to_owned()
            } else {
                exports.join(", ")
            }
        )),
    }
}

/// Load every `*.wasm` plugin in `dir`, sorted by file name.
pub fn load_dir(
    dir: &Path,
    cache_dir: Option<&Path>,
    limits: Limits,
) -> Result<Vec<Plugin>, PluginError> {
    let entries = std::fs::read_dir(dir).map_err(|cause| PluginError::Read {
        path: dir.to_owned(),
        cause,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    paths.sort();
    let mut plugins: Vec<Plugin> = Vec::new();
    for path in paths {
        let plugin = Plugin::load(&path, cache_dir, limits)?;
        if let Some(other) = plugins.iter().find(|p| p.family() == plugin.family()) {
            return Err(PluginError::Invalid {
                path,
                message: format!(
                    "family {:?} is already provided by {}",
                    plugin.family(),
                    other.path.display()
                ),
            });
        }
        plugins.push(plugin);
    }
    Ok(plugins)
}

#[cfg(test)]
mod tests {
    /// The host, the SDK and the WIT package name one contract version.
    #[test]
    fn contract_versions_agree() {
        let wit = include_str!("../../../wit/projection.wit");
        let line = format!("package projector:projection@{};", super::CONTRACT_VERSION);
        assert!(
            wit.lines().any(|l| l.trim() == line),
            "wit/projection.wit lacks {line:?}"
        );
        assert_eq!(super::CONTRACT_VERSION, projection_sdk::CONTRACT_VERSION);
    }
}
