//! An optional TCP health-check listener for load balancers that can only check TCP: it is bound
//! (and accepts, then closes, connections) only while its component is healthy, and unbound while
//! it is not, so the balancer sees refused connections.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::telemetry::Component;

pub async fn run(
    addr: SocketAddr,
    component: Component,
    name: String,
    shutdown: CancellationToken,
) {
    let mut listener: Option<TcpListener> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        match (&listener, component.is_healthy()) {
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
                info!(address = %addr, "{name} unhealthy; health-check listener closed");
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
