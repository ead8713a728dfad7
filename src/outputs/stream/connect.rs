//! One stream connection: dialing (resolve, TCP connect with keepalive and `TCP_USER_TIMEOUT`,
//! then TLS if asked) and the read-side watch that tells when the peer has gone. Owns the socket
//! options; knows nothing of lines, buffers or retries.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

/// Any byte stream the writer can use (plain TCP or TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

pub type BoxIo = Box<dyn Io>;

/// Where a stream output connects.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// `None` = plain TCP.
    pub tls: Option<TlsTarget>,
}

#[derive(Clone)]
pub struct TlsTarget {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.endpoint())
    }
}

impl Target {
    /// `host:port` as shown in status and messages (`[v6]:port` for IPv6 literals).
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A TLS target checking `name` (a DNS name or an IP address literal).
pub fn tls_target(config: Arc<ClientConfig>, name: &str) -> Result<TlsTarget, String> {
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|e| format!("`{name}` is not a valid TLS server name: {e}"))?;
    Ok(TlsTarget {
        config,
        server_name,
    })
}

/// Timeouts and keepalive of a connection.
#[derive(Clone, Copy, Debug)]
pub struct SocketOptions {
    pub connect_timeout: Duration,
    /// `TCP_USER_TIMEOUT`: unacknowledged data older than this kills the connection, so a
    /// black-holed peer fails in bounded time instead of after the kernel's ~15 minutes.
    pub user_timeout: Duration,
    /// Idle time before the first keepalive probe.
    pub keepalive: Duration,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            connect_timeout: Duration::from_secs(10),
            user_timeout: Duration::from_secs(30),
            keepalive: Duration::from_secs(30),
        }
    }
}

/// Why a connection attempt failed; `reason()` is the `failed{reason}` label.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("timed out connecting to {0}")]
    Timeout(String),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, std::io::Error),
}

impl ConnectError {
    pub fn reason(&self) -> &'static str {
        match self {
            ConnectError::Resolve(..) | ConnectError::Connect(..) => "connect",
            ConnectError::Timeout(_) => "timeout",
            ConnectError::Tls(..) => "tls",
        }
    }
}

/// Opens one connection to `t`, trying each resolved address in turn.
pub async fn dial(t: &Target, o: &SocketOptions) -> Result<BoxIo, ConnectError> {
    let ep = t.endpoint();
    let tcp = tokio::time::timeout(o.connect_timeout, tcp_connect(t, &ep))
        .await
        .map_err(|_| ConnectError::Timeout(ep.clone()))??;
    set_options(&tcp, o);
    let Some(tls) = &t.tls else {
        return Ok(Box::new(tcp));
    };
    let connector = TlsConnector::from(tls.config.clone());
    let hs = connector.connect(tls.server_name.clone(), tcp);
    match tokio::time::timeout(o.connect_timeout, hs).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => Err(ConnectError::Tls(ep, e)),
        Err(_) => Err(ConnectError::Timeout(ep)),
    }
}

async fn tcp_connect(t: &Target, ep: &str) -> Result<TcpStream, ConnectError> {
    let addrs: Vec<_> = tokio::net::lookup_host((t.host.as_str(), t.port))
        .await
        .map_err(|e| ConnectError::Resolve(ep.to_string(), e.to_string()))?
        .collect();
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => ConnectError::Connect(ep.to_string(), e),
        None => ConnectError::Resolve(ep.to_string(), "no addresses".into()),
    })
}

/// Best effort: a socket option the kernel refuses leaves the connection usable, only less
/// quick to notice a dead peer, so it is logged rather than failed.
fn set_options(s: &TcpStream, o: &SocketOptions) {
    let sock = SockRef::from(s);
    let ka = TcpKeepalive::new()
        .with_time(o.keepalive)
        .with_interval(Duration::from_secs(10))
        .with_retries(3);
    let results = [
        ("keepalive", sock.set_tcp_keepalive(&ka)),
        ("nodelay", sock.set_tcp_nodelay(true)),
        (
            "user_timeout",
            sock.set_tcp_user_timeout(Some(o.user_timeout)),
        ),
    ];
    for (what, r) in results {
        if let Err(e) = r {
            tracing::debug!(option = what, error = %e, "cannot set socket option");
        }
    }
}

/// Why an open connection is considered dead.
#[derive(Debug)]
pub(super) enum Gone {
    Eof,
    Data,
    Io(io::Error),
}

impl Gone {
    pub(super) fn reason(&self) -> &'static str {
        match self {
            Gone::Io(e) if e.kind() == io::ErrorKind::TimedOut => "timeout",
            Gone::Io(e) if e.kind() == io::ErrorKind::InvalidData => "tls",
            _ => "closed_by_peer",
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Gone::Eof => "the peer closed the connection".into(),
            Gone::Data => "the peer sent unexpected data; reconnecting".into(),
            Gone::Io(e) => format!("connection lost: {e}"),
        }
    }
}

/// An open connection: the write half for the writer, the read half in a watching task.
pub(super) struct Conn {
    pub(super) w: WriteHalf<BoxIo>,
    gone: oneshot::Receiver<Gone>,
    reader: JoinHandle<()>,
    pub(super) opened: Instant,
}

impl Conn {
    pub(super) fn new(io: BoxIo) -> Self {
        let (r, w) = tokio::io::split(io);
        let (tx, gone) = oneshot::channel();
        Conn {
            w,
            gone,
            reader: tokio::spawn(watch_peer(r, tx)),
            opened: Instant::now(),
        }
    }

    /// `Some` once the read side has seen the connection end.
    pub(super) fn check(&mut self) -> Option<Gone> {
        match self.gone.try_recv() {
            Ok(g) => Some(g),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Gone::Eof),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The pending read: the peer never sends, so whatever completes it ends the connection.
async fn watch_peer(mut r: ReadHalf<BoxIo>, tx: oneshot::Sender<Gone>) {
    let mut buf = [0u8; 512];
    let gone = match r.read(&mut buf).await {
        Ok(0) => Gone::Eof,
        Ok(_) => Gone::Data,
        Err(e) => Gone::Io(e),
    };
    let _ = tx.send(gone);
}

/// The `failed{reason}` label of a write error.
pub(super) fn io_reason(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::TimedOut => "timeout",
        io::ErrorKind::InvalidData => "tls",
        _ => "closed_by_peer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        let t = Target {
            host: "::1".into(),
            port: 1,
            tls: None,
        };
        assert_eq!(t.endpoint(), "[::1]:1");
    }

    #[test]
    fn server_names_accept_dns_and_ip() {
        crate::tls::install_provider();
        let cfg = crate::tls::client_config(None).unwrap();
        assert!(tls_target(cfg.clone(), "localhost").is_ok());
        assert!(tls_target(cfg.clone(), "127.0.0.1").is_ok());
        assert!(tls_target(cfg, "bad name!").is_err());
    }
}
