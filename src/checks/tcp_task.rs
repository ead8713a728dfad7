//! TCP check IO: one task per check that resolves the name each run (getaddrinfo, so
//! /etc/hosts and the VPC resolver both apply), connects to every selected address at once
//! (one slow address never delays the others' results), closes at once, and reports. What the
//! results mean is `tcp.rs`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::config::TcpCheckConfig;
use crate::event::Event;
use crate::telemetry::Component;

use super::tcp::{self, Health, Outcome, Run};
use super::{resolve, CheckContext, KIND};

/// Spawns the check's task into `set`; it first runs after `offset`.
pub fn spawn(c: TcpCheckConfig, offset: Duration, ctx: &Arc<CheckContext>, set: &mut JoinSet<()>) {
    let comp = ctx.telemetry.component(&tcp::component_name(&c), KIND);
    comp.set_healthy(true);
    comp.set_detail("target", tcp::host_port(&c.host, c.port));
    comp.set_detail("interval", humantime::format_duration(c.interval));
    comp.set_message(format!(
        "{}: first check within {}",
        tcp::host_port(&c.host, c.port),
        humantime::format_duration(c.interval)
    ));
    set.spawn(run(c, offset, comp, ctx.clone()));
}

async fn run(c: TcpCheckConfig, offset: Duration, comp: Component, ctx: Arc<CheckContext>) {
    let name = tcp::component_name(&c);
    let t = &ctx.telemetry;
    let ok = t.counter(
        "nocbox.tcp_check.runs",
        &[("check", &name), ("result", "ok")],
    );
    let partial = t.counter(
        "nocbox.tcp_check.runs",
        &[("check", &name), ("result", "partial")],
    );
    let down = t.counter(
        "nocbox.tcp_check.runs",
        &[("check", &name), ("result", "down")],
    );
    let start = tokio::time::Instant::now() + offset;
    let mut tick = tokio::time::interval_at(start, c.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let ts = chrono::Utc::now().timestamp();
        let result = tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            r = check_once(&c) => r,
        };
        for m in tcp::metrics(&c, &ctx.tags, &result, ts, &ctx.hostname) {
            ctx.pipeline.send(Event::Metric(m));
        }
        let msg = tcp::message(&c, &result);
        comp.set_message(msg.clone());
        match tcp::health(&result) {
            Health::Ok => {
                ok.inc();
                comp.set_healthy(true);
                comp.success();
            }
            Health::Partial => {
                partial.inc();
                comp.set_healthy(true);
                comp.error(msg);
            }
            Health::Down => {
                down.inc();
                comp.set_healthy(false);
                comp.error(msg);
            }
        }
    }
}

/// Resolves, selects and connects to every address at once.
pub async fn check_once(c: &TcpCheckConfig) -> Run {
    let resolved = match resolve(&c.host).await {
        Ok(r) => r,
        Err(e) => return Run::Dns(e),
    };
    let addrs = tcp::select(&resolved, c);
    if addrs.is_empty() {
        return Run::NoAddress { resolved };
    }
    let mut set = JoinSet::new();
    for (i, ip) in addrs.iter().enumerate() {
        let (ip, port, timeout) = (*ip, c.port, c.timeout);
        set.spawn(async move { (i, connect(ip, port, timeout).await) });
    }
    let mut results: Vec<(IpAddr, Outcome)> = addrs
        .iter()
        .map(|ip| (*ip, Outcome::Failed("not checked".into())))
        .collect();
    while let Some(done) = set.join_next().await {
        if let Ok((i, o)) = done {
            results[i].1 = o;
        }
    }
    Run::Checked(results)
}

async fn connect(ip: IpAddr, port: u16, timeout: Duration) -> Outcome {
    let t0 = Instant::now();
    match tokio::time::timeout(timeout, TcpStream::connect(SocketAddr::new(ip, port))).await {
        Ok(Ok(stream)) => {
            let took = t0.elapsed();
            drop(stream);
            Outcome::Open(took)
        }
        Ok(Err(e)) => tcp::classify(&e),
        Err(_) => Outcome::TimedOut(timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(host: &str, port: u16, timeout: &str) -> TcpCheckConfig {
        let yaml = format!(
            "tcp_checks:\n  - {{ name: t, host: '{host}', port: {port}, timeout: {timeout} }}\n"
        );
        crate::config::parse("t.yaml", &yaml, |_| None)
            .expect("config")
            .tcp_checks
            .expect("list")
            .remove(0)
    }

    #[tokio::test]
    async fn open_and_refused_on_loopback() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let run = check_once(&check("127.0.0.1", port, "2s")).await;
        let Run::Checked(r) = &run else {
            panic!("{run:?}")
        };
        assert!(r[0].1.is_open(), "{run:?}");
        drop(l);
        let run = check_once(&check("127.0.0.1", port, "2s")).await;
        assert_eq!(
            run,
            Run::Checked(vec![("127.0.0.1".parse().unwrap(), Outcome::Refused)])
        );
    }

    #[tokio::test]
    async fn garbage_hosts_fail_cleanly() {
        let mut c = check("x", 22, "1s");
        c.host = "bad\u{0}host".into();
        assert!(matches!(check_once(&c).await, Run::Dns(_)));
    }
}
