//! Wiring: turn the config into settings, bind every socket, make the pipeline, spawn the tasks,
//! and stop in order: on SIGTERM health checks fail at once while inputs keep receiving for the
//! drain period; then inputs stop, outputs flush what is queued within the flush timeout, and
//! whatever is still undelivered after that is counted and logged.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{Config, OutputsConfig, SyslogConfig};
use crate::inputs::syslog::{SyslogInput, SyslogSockets};
use crate::outputs::OutputContext;
use crate::pipeline::{Accepts, PipelineBuilder, QueueView};
use crate::telemetry::Telemetry;

/// The effective configuration: the file's sections, or the built-in defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: Config,
}

impl Settings {
    /// Built-in defaults: syslog UDP+TCP on 0.0.0.0:5514, the API on 0.0.0.0:8080, stdout.
    /// Nothing here contacts any address.
    pub fn defaults() -> Self {
        let config = Config {
            syslog: Some(SyslogConfig {
                udp: Some(Default::default()),
                tcp: Some(Default::default()),
                max_message_size: 65536,
                ..Default::default()
            }),
            ..Default::default()
        };
        Settings::from_file(config)
    }

    pub fn from_file(config: Config) -> Self {
        Settings { config }
    }

    /// `hostname`, or the machine's name when it is absent or empty (so `${NOCBOX_HOSTNAME:-}`
    /// can leave it to each task).
    fn hostname(&self) -> String {
        let configured = self
            .config
            .hostname
            .clone()
            .filter(|h| !h.trim().is_empty());
        configured.unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "nocbox".into())
        })
    }

    fn stdout_enabled(&self, outputs: &OutputsConfig) -> bool {
        match &outputs.stdout {
            Some(s) => s.enabled,
            None => outputs.datadog.is_none(),
        }
    }
}

/// Checks that need more than the config's shape, for `nocbox validate`: each output's setup
/// (CA files parse as PEM, the API key is usable as a header, endpoints are usable, plain http
/// only to loopback) and the files inputs load (syslog TLS certificate, NTP key file, trap
/// database). Every problem, each starting with its config path.
pub fn preflight(config: &Config) -> Vec<String> {
    let mut problems = output_problems(config);
    problems.extend(input_problems(config));
    problems
}

/// The outputs' setup checks. `run` makes these before spawning anything, because an output
/// failing later only shows as unhealthy; inputs load their files as they are built and stop
/// the start with the same messages, so `run` reads each file once.
fn output_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(o) = &config.outputs {
        if let Some(dd) = &o.datadog {
            problems.extend(crate::outputs::datadog::check_endpoints(dd).err());
        }
        for (i, f) in o.syslog_forward.iter().enumerate() {
            problems.extend(crate::outputs::syslog_forward::check(f, i).err());
        }
    }
    problems
}

fn input_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(path) = config.ntp.as_ref().and_then(|n| n.key_file.as_ref()) {
        if let Err(e) = crate::proto::ntp::auth::KeySet::load(path) {
            problems.push(format!("ntp.key_file: {e}"));
        }
    }
    if let Some(s) = &config.snmp {
        if let Err(e) = crate::poller::load_profiles(s) {
            problems.extend(e);
        }
    }
    if let Some(t) = &config.traps {
        if let Err(e) = crate::proto::snmp::trapdb::TrapDb::load(&t.trap_db) {
            problems.extend(e.into_iter().map(|m| format!("traps.trap_db: {m}")));
        }
    }
    if let Some(t) = config
        .syslog
        .as_ref()
        .and_then(|s| s.tcp.as_ref())
        .and_then(|t| t.tls.as_ref())
    {
        if let Err(e) = crate::tls::server_config(&t.cert_file, &t.key_file) {
            problems.push(format!("syslog.tcp.tls: {e}"));
        }
    }
    problems
}

/// Runs until SIGTERM/SIGINT, then drains. A second signal cuts the drain period short.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let hurry = CancellationToken::new();
    let (s, h) = (stop.clone(), hurry.clone());
    tokio::spawn(async move {
        wait_for_signal().await;
        s.cancel();
        wait_for_signal().await;
        info!("second stop signal: ending the drain period now");
        h.cancel();
    });
    run_until(settings, stop, hurry).await
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => info!("SIGTERM received"),
                _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
            }
        }
        Err(e) => {
            warn!(error = %e, "cannot watch SIGTERM; only SIGINT stops the service");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Binds and runs until `stop` is cancelled; then drains (see the module doc). `hurry` ends the
/// drain period early.
pub async fn run_until(
    settings: Settings,
    stop: CancellationToken,
    hurry: CancellationToken,
) -> anyhow::Result<()> {
    let telemetry = Telemetry::new();
    let cfg = &settings.config;
    let outputs_cfg = cfg.outputs.clone().unwrap_or_default();
    let problems = output_problems(cfg);
    if !problems.is_empty() {
        anyhow::bail!("the configuration cannot run:\n{}", problems.join("\n"));
    }

    // Bind everything first, so a port clash stops the start before any task runs.
    let api_cfg = cfg.api.clone().unwrap_or_default();
    let api_listener = TcpListener::bind(api_cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {} (api.listen)", api_cfg.listen))?;
    info!(input = "api", address = %api_listener.local_addr()?, "listening");
    let syslog_sockets = match &cfg.syslog {
        Some(s) => Some(bind_syslog(s).await?),
        None => None,
    };
    let ntp_sockets = match &cfg.ntp {
        Some(n) => Some(bind_ntp(n).await?),
        None => None,
    };
    let traps_sockets = match &cfg.traps {
        Some(t) => Some(bind_traps(t).await?),
        None => None,
    };

    let hard_stop = CancellationToken::new();
    let ctx = OutputContext {
        telemetry: telemetry.clone(),
        hard_stop: hard_stop.clone(),
        hostname: settings.hostname(),
        tags: cfg.tags.clone(),
    };
    let mut builder = PipelineBuilder::new(&telemetry);
    let metric_events = crate::outputs::prometheus::Exposition::default();
    let mut outputs = spawn_outputs(&settings, &outputs_cfg, &mut builder, &ctx, &metric_events);
    let pipeline = builder.build();
    let view = pipeline.view();

    let shutdown = CancellationToken::new();
    let mut inputs = Inputs::default();
    // One directory of device names for every input: the config's, plus sysNames the poller learns.
    let devices = crate::inputs::devices(cfg);
    if let (Some(sockets), Some(scfg)) = (syslog_sockets, &cfg.syslog) {
        let input = SyslogInput::new(
            scfg.clone(),
            pipeline.clone(),
            telemetry.clone(),
            devices.clone(),
            cfg.tags.clone(),
            cfg.namespace.clone().unwrap_or_else(|| "default".into()),
        )?;
        inputs.spawn_group("syslog", &telemetry, &shutdown, |set| {
            input.spawn(sockets, set, shutdown.clone())
        });
    }
    if let (Some(sockets), Some(ncfg)) = (ntp_sockets, &cfg.ntp) {
        let ntp = crate::inputs::ntp::NtpService::new(ncfg.clone(), telemetry.clone())?;
        inputs.spawn_group("ntp", &telemetry, &shutdown, |set| {
            ntp.spawn(sockets, set, shutdown.clone())
        });
    }
    if let (Some(sockets), Some(tcfg)) = (traps_sockets, &cfg.traps) {
        let traps = crate::inputs::traps::TrapsInput::new(
            tcfg.clone(),
            pipeline.clone(),
            telemetry.clone(),
            devices.clone(),
            cfg.tags.clone(),
            cfg.namespace.clone().unwrap_or_else(|| "default".into()),
            &settings.hostname(),
        )?;
        inputs.spawn_group("traps", &telemetry, &shutdown, |set| {
            traps.spawn(sockets, set, shutdown.clone())
        });
    }
    // Reachability checks (ping, tcp_checks) and SNMP polling (one task per device and per
    // discovery subnet): components of kind "check", never part of the overall /healthz;
    // stopped by `shutdown` like the inputs (checks/mod.rs, poller/mod.rs).
    let ctx = crate::checks::CheckContext::new(
        cfg,
        devices.clone(),
        pipeline.clone(),
        telemetry.clone(),
        settings.hostname(),
        shutdown.clone(),
    );
    if cfg.ping.is_some() || cfg.tcp_checks.is_some() {
        inputs.spawn_group("ping", &telemetry, &shutdown, |set| {
            crate::checks::spawn_ping(cfg, &ctx, set)
        });
        inputs.spawn_group("tcp_checks", &telemetry, &shutdown, |set| {
            crate::checks::spawn_tcp(cfg, &ctx, set)
        });
    }
    if cfg.snmp.is_some() {
        let mut started = Ok(());
        inputs.spawn_group("snmp", &telemetry, &shutdown, |set| {
            started = crate::poller::spawn(cfg, &ctx, set);
        });
        started.map_err(anyhow::Error::msg)?;
    }
    drop(ctx);
    // From here only the input tasks hold the pipeline: when they end, every queue closes.
    drop(pipeline);

    let api_state = crate::api::ApiState {
        telemetry: telemetry.clone(),
        queues: view.clone(),
        prometheus: prometheus_config(&outputs_cfg).is_some(),
        metric_events,
    };
    let api_stop = CancellationToken::new();
    let api = tokio::spawn(crate::api::serve(api_listener, api_state, api_stop.clone()));
    info!(version = env!("CARGO_PKG_VERSION"), "nocbox running");

    stop.cancelled().await;
    drain(cfg, &telemetry, &hurry).await;
    shutdown.cancel();
    inputs.join().await;
    flush(cfg, &telemetry, &view, &mut outputs, &hard_stop).await;
    api_stop.cancel();
    let _ = api.await;
    info!("stopped");
    Ok(())
}

/// Spawns one task per enabled output, each on its own queue. An output whose setup fails
/// (bad CA file, unusable key) is marked unhealthy with the reason, so `/healthz` and
/// `nocbox status` show it instead of the events vanishing silently.
fn spawn_outputs(
    settings: &Settings,
    outputs_cfg: &OutputsConfig,
    builder: &mut PipelineBuilder,
    ctx: &OutputContext,
    metric_events: &crate::outputs::prometheus::Exposition,
) -> JoinSet<()> {
    let mut outputs = JoinSet::new();
    let failed = |name: String, ctx: &OutputContext, e: anyhow::Error| {
        let c = ctx.telemetry.component(&name, "output");
        c.set_healthy(false);
        c.error(format!("{e:#}"));
        tracing::error!(output = %name, "{e:#}");
    };
    if settings.stdout_enabled(outputs_cfg) {
        let st = outputs_cfg.stdout.clone().unwrap_or_default();
        let rx = builder.add_output("stdout", st.queue_size, st.queue_bytes, Accepts::All);
        outputs.spawn(crate::outputs::stdout::run(rx, ctx.clone()));
    }
    if let Some(dd) = outputs_cfg.datadog.clone() {
        let rx = builder.add_output(
            "datadog_logs",
            dd.logs.queue_size,
            dd.logs.queue_bytes,
            Accepts::Logs,
        );
        let ctx = ctx.clone();
        outputs.spawn(async move {
            if let Err(e) = crate::outputs::datadog::run_logs(dd, rx, ctx.clone()).await {
                failed("datadog_logs".into(), &ctx, e);
            }
        });
    }
    if let Some(dd) = outputs_cfg.datadog.clone().filter(|d| d.metrics.enabled) {
        let m = &dd.metrics;
        let rx = builder.add_output(
            "datadog_metrics",
            m.queue_size,
            m.queue_bytes,
            Accepts::Metrics,
        );
        let ctx = ctx.clone();
        outputs.spawn(async move {
            if let Err(e) = crate::outputs::datadog::run_metrics(dd, rx, ctx.clone()).await {
                failed("datadog_metrics".into(), &ctx, e);
            }
        });
    }
    if let Some(p) = prometheus_config(outputs_cfg) {
        let rx = builder.add_output("prometheus", p.queue_size, p.queue_bytes, Accepts::Metrics);
        let out = metric_events.clone();
        outputs.spawn(crate::outputs::prometheus::run(p, out, rx, ctx.clone()));
    }
    for (i, f) in outputs_cfg.syslog_forward.iter().cloned().enumerate() {
        let name = format!("syslog_forward_{i}");
        let rx = builder.add_output(&name, f.queue_size, f.queue_bytes, Accepts::Logs);
        let ctx = ctx.clone();
        outputs.spawn(async move {
            if let Err(e) = crate::outputs::syslog_forward::run(f, i, rx, ctx.clone()).await {
                failed(name, &ctx, e);
            }
        });
    }
    outputs
}

/// `outputs.prometheus` when enabled: on by default, also without the section.
fn prometheus_config(outputs_cfg: &OutputsConfig) -> Option<crate::config::PrometheusConfig> {
    let p = outputs_cfg.prometheus.clone().unwrap_or_default();
    p.enabled.then_some(p)
}

/// Input tasks, one supervisor per input component.
#[derive(Default)]
struct Inputs {
    set: JoinSet<()>,
}

impl Inputs {
    /// Spawns an input's tasks under a supervisor: a task that ends before `shutdown` (a panic,
    /// a dead socket) marks the component unhealthy, which `/healthz` and the health-check
    /// listeners then report.
    fn spawn_group(
        &mut self,
        component: &'static str,
        telemetry: &Telemetry,
        shutdown: &CancellationToken,
        spawn: impl FnOnce(&mut JoinSet<()>),
    ) {
        let mut group = JoinSet::new();
        spawn(&mut group);
        let (telemetry, shutdown) = (telemetry.clone(), shutdown.clone());
        self.set.spawn(async move {
            while let Some(res) = group.join_next().await {
                if shutdown.is_cancelled() {
                    continue;
                }
                let why = match res {
                    Ok(()) => "ended".to_string(),
                    Err(e) => format!("failed: {e}"),
                };
                tracing::error!(
                    input = component,
                    "a receiver task {why}; the input is unhealthy"
                );
                if let Some(c) = telemetry.find_component(component) {
                    c.set_healthy(false);
                    c.error(format!("a receiver task {why}"));
                }
            }
        });
    }

    async fn join(&mut self) {
        while self.set.join_next().await.is_some() {}
    }
}

/// After SIGTERM: health fails at once; inputs keep receiving for the drain period.
async fn drain(cfg: &Config, telemetry: &Telemetry, hurry: &CancellationToken) {
    let sd = cfg.shutdown;
    telemetry.set_draining();
    info!(drain_period = ?sd.drain_period, "stopping: health checks now fail; inputs keep receiving during the drain period (signal again to stop now)");
    tokio::select! {
        _ = tokio::time::sleep(sd.drain_period) => {}
        _ = hurry.cancelled() => {}
    }
}

/// Inputs have stopped, so every queue closes after its last event: outputs deliver what is
/// queued within the flush timeout; then they are stopped and the undelivered are counted.
async fn flush(
    cfg: &Config,
    telemetry: &Telemetry,
    view: &QueueView,
    outputs: &mut JoinSet<()>,
    hard_stop: &CancellationToken,
) {
    let timeout = cfg.shutdown.flush_timeout;
    info!(flush_timeout = ?timeout, "inputs stopped; flushing outputs");
    if tokio::time::timeout(timeout, join_all(outputs))
        .await
        .is_ok()
    {
        return;
    }
    let queued: usize = view.queues().iter().map(|q| q.depth).sum();
    hard_stop.cancel();
    // An output stuck in a write it cannot cancel must not keep the process alive.
    if tokio::time::timeout(Duration::from_secs(2), join_all(outputs))
        .await
        .is_err()
    {
        outputs.abort_all();
    }
    let abandoned = telemetry.counter_sum("nocbox.output.dropped", &[("reason", "shutdown")]);
    warn!(
        queued,
        abandoned,
        "outputs did not flush within the flush timeout; these events were not delivered"
    );
}

async fn join_all(set: &mut JoinSet<()>) {
    while set.join_next().await.is_some() {}
}

async fn bind_syslog(s: &SyslogConfig) -> anyhow::Result<SyslogSockets> {
    let udp = match &s.udp {
        Some(u) => {
            let sock = crate::inputs::udp::bind(u.listen, u.receive_buffer, "syslog")
                .with_context(|| {
                    format!("cannot listen on UDP {} (syslog.udp.listen)", u.listen)
                })?;
            info!(input = "syslog_udp", address = %sock.local_addr()?, "listening");
            Some(sock)
        }
        None => None,
    };
    let tcp = match &s.tcp {
        Some(t) => Some(bind_tcp(t.listen, "syslog_tcp", "syslog.tcp.listen").await?),
        None => None,
    };
    let health_check = match &s.health_check {
        Some(h) => Some(
            bind_tcp(
                h.listen,
                "syslog_health_check",
                "syslog.health_check.listen",
            )
            .await?,
        ),
        None => None,
    };
    Ok(SyslogSockets {
        udp,
        tcp,
        health_check,
    })
}

async fn bind_ntp(n: &crate::config::NtpConfig) -> anyhow::Result<crate::inputs::ntp::NtpSockets> {
    let udp = crate::inputs::udp::bind(n.listen, n.receive_buffer, "NTP")
        .with_context(|| format!("cannot listen on UDP {} (ntp.listen)", n.listen))?;
    info!(input = "ntp", address = %udp.local_addr()?, "listening");
    let health_check = match &n.health_check {
        Some(h) => Some(bind_tcp(h.listen, "ntp_health_check", "ntp.health_check.listen").await?),
        None => None,
    };
    Ok(crate::inputs::ntp::NtpSockets { udp, health_check })
}

async fn bind_traps(
    t: &crate::config::TrapsConfig,
) -> anyhow::Result<crate::inputs::traps::TrapsSockets> {
    let udp = crate::inputs::udp::bind(t.listen, t.receive_buffer, "traps")
        .with_context(|| format!("cannot listen on UDP {} (traps.listen)", t.listen))?;
    info!(input = "traps", address = %udp.local_addr()?, "listening");
    let tcp = match &t.tcp {
        Some(c) => Some(bind_tcp(c.listen, "traps_tcp", "traps.tcp.listen").await?),
        None => None,
    };
    let health_check = match &t.health_check {
        Some(h) => {
            Some(bind_tcp(h.listen, "traps_health_check", "traps.health_check.listen").await?)
        }
        None => None,
    };
    Ok(crate::inputs::traps::TrapsSockets {
        udp,
        tcp,
        health_check,
    })
}

async fn bind_tcp(addr: SocketAddr, input: &str, key: &str) -> anyhow::Result<TcpListener> {
    let l = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on TCP {addr} ({key})"))?;
    info!(input, address = %l.local_addr()?, "listening");
    Ok(l)
}
