//! An optional TCP health-check listener for load balancers that can only check TCP: it is bound
//! (and accepts, then closes, connections) only while its component is healthy, and unbound while
//! it is not, so the balancer sees refused connections.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::telemetry::{Component, Telemetry};

pub async fn run(
    addr: SocketAddr,
    component: Component,
    telemetry: Telemetry,
    name: String,
    shutdown: CancellationToken,
) {
    let mut listener: Option<TcpListener> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        // While draining after SIGTERM the listener closes, like the HTTP health checks fail.
        let healthy = component.is_healthy() && !telemetry.is_draining();
        match (&listener, healthy) {
            (None, true) => match TcpListener::bind(addr).await {
                Ok(l) => {
                    if let Ok(a) = l.local_addr() {
                        info!(input = %format!("{name}_health_check"), address = %a, "listening");
                    }
                    listener = Some(l);
                }
                Err(e) => {
                    warn!(address = %addr, error = %e, "cannot bind the {name} health-check listener")
                }
            },
            (Some(_), false) => {
                info!(address = %addr, "{name} unhealthy or draining; health-check listener closed");
                listener = None;
            }
            _ => {}
        }
        match &listener {
            Some(l) => tokio::select! {
                // The balancer only needs the handshake; close at once.
                r = l.accept() => drop(r),
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            },
            None => tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            },
        }
    }
}
