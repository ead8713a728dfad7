//! An optional TCP health-check listener for load balancers that can only check TCP: it accepts
//! (then closes) connections only while its component is healthy and the service is not
//! draining; otherwise it is unbound, so the balancer sees refused connections. `app.rs` binds
//! it first, so a port clash stops the start like any other listener.

use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::outputs::backoff::FailureLog;
use crate::telemetry::{Component, Telemetry};

pub async fn run(
    bound: TcpListener,
    component: Component,
    telemetry: Telemetry,
    name: String,
    shutdown: CancellationToken,
) {
    // Re-bind to the same address (port included, even if it was chosen by the kernel).
    let Ok(addr) = bound.local_addr() else {
        return;
    };
    let mut listener = Some(bound);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut bind_failures = FailureLog::new(Duration::from_secs(60));
    loop {
        let healthy = component.is_serving() && !telemetry.is_draining();
        match (&listener, healthy) {
            (None, true) => match TcpListener::bind(addr).await {
                Ok(l) => {
                    info!(address = %addr, "{name} healthy again; health-check listener open");
                    listener = Some(l);
                }
                Err(e) => {
                    if let Some(suppressed) = bind_failures.failure(Instant::now()) {
                        warn!(address = %addr, error = %e, suppressed, "cannot re-bind the {name} health-check listener");
                    }
                }
            },
            (Some(_), false) => {
                info!(address = %addr, "{name} unhealthy or draining; health-check listener closed");
                listener = None;
            }
            _ => {}
        }
        let accepted = match &listener {
            Some(l) => tokio::select! {
                r = l.accept() => Some(r),
                _ = tick.tick() => None,
                _ = shutdown.cancelled() => return,
            },
            None => tokio::select! {
                _ = tick.tick() => None,
                _ = shutdown.cancelled() => return,
            },
        };
        // The balancer only needs the handshake: close at once. After an accept error
        // (EMFILE...) pause instead of spinning.
        if let Some(Err(_)) = accepted {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
