//! `nocbox snmp get|walk`: net-snmp's `snmpget -On` / `snmpbulkwalk -On` with the same flags and
//! the same output, on top of [`Session`], so the poller's engine can be tried by hand and its
//! output diffed against net-snmp.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::session::{EndReason, Security, Session, SessionConfig, WalkRoot};
use super::transport::Transport;
use crate::proto::snmp::client::format::format_varbind;
use crate::proto::snmp::message::{Value, VarBind, Version};
use crate::proto::snmp::usm::{AuthProtocol, PrivProtocol, UsmUser};
use crate::proto::snmp::Oid;

#[derive(Subcommand, Debug)]
pub enum SnmpCommand {
    /// GET the OIDs; prints like `snmpget -On`.
    Get(SnmpArgs),
    /// Walk each OID's subtree (GETBULK, GETNEXT for v1); prints like `snmpbulkwalk -On`.
    Walk(SnmpArgs),
    /// Scan a subnet: every address is asked for sysObjectID, sysName and sysDescr with the
    /// given credentials; prints the devices that answer, with the profile they would get.
    Discover(DiscoverArgs),
}

/// net-snmp's security and timing flags, shared by every `snmp` command.
#[derive(Args, Debug)]
pub struct SecurityArgs {
    /// SNMP version: 1, 2c or 3.
    #[arg(short = 'v', default_value = "2c")]
    pub version: String,
    /// Community (v1, v2c).
    #[arg(short = 'c', default_value = "public")]
    pub community: String,
    /// v3 user name.
    #[arg(short = 'u')]
    pub user: Option<String>,
    /// v3 security level: noAuthNoPriv, authNoPriv or authPriv.
    #[arg(short = 'l', default_value = "noAuthNoPriv")]
    pub level: String,
    /// Auth protocol: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512.
    #[arg(short = 'a', default_value = "MD5")]
    pub auth_protocol: String,
    /// Auth password.
    #[arg(short = 'A')]
    pub auth_password: Option<String>,
    /// Privacy protocol: DES, 3DES, AES, AES-192, AES-256, AES-192C, AES-256C.
    #[arg(short = 'x', default_value = "DES")]
    pub priv_protocol: String,
    /// Privacy password.
    #[arg(short = 'X')]
    pub priv_password: Option<String>,
    /// v3 context name.
    #[arg(short = 'n', default_value = "")]
    pub context: String,
    /// The agent's engine ID in hex (0x optional); skips discovery.
    #[arg(short = 'e')]
    pub engine_id: Option<String>,
    /// Timeout per try, seconds.
    #[arg(short = 't', default_value = "1")]
    pub timeout: f64,
    /// Retries.
    #[arg(short = 'r', default_value = "5")]
    pub retries: u32,
}

/// `get` and `walk`: net-snmp's flags, a target and OIDs.
#[derive(Args, Debug)]
pub struct SnmpArgs {
    #[command(flatten)]
    pub sec: SecurityArgs,
    /// Output options; accepted for net-snmp compatibility (output is always numeric, -On).
    #[arg(short = 'O')]
    pub output: Option<String>,
    /// Walk options: `r<N>` sets max-repetitions (as -Cr10).
    #[arg(short = 'C')]
    pub walk_options: Option<String>,
    /// `host[:port]`, `[v6addr]:port`, with an optional `udp:` or `udp6:` prefix.
    pub target: String,
    /// Numeric OIDs.
    #[arg(required = true)]
    pub oids: Vec<String>,
}

/// `discover`: the security flags, a subnet and how to scan it.
#[derive(Args, Debug)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub sec: SecurityArgs,
    /// SNMP port of the devices.
    #[arg(long, default_value = "161")]
    pub port: u16,
    /// Addresses asked at once.
    #[arg(long, default_value = "64")]
    pub workers: usize,
    /// A directory of your own profiles (repeatable), as `snmp.profiles`.
    #[arg(long = "profiles")]
    pub profiles: Vec<std::path::PathBuf>,
    /// The subnet, e.g. 10.0.1.0/24 (at most 65,536 addresses).
    pub cidr: String,
}

/// Runs the command; prints results to stdout and problems to stderr; returns the exit code.
pub async fn run(cmd: SnmpCommand) -> u8 {
    let (walk, args) = match cmd {
        SnmpCommand::Get(a) => (false, a),
        SnmpCommand::Walk(a) => (true, a),
        SnmpCommand::Discover(d) => {
            return match super::discovery::cli(&d).await {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("nocbox snmp discover: {e}");
                    1
                }
            }
        }
    };
    match execute(walk, &args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nocbox snmp: {e}");
            1
        }
    }
}

async fn execute(walk: bool, args: &SnmpArgs) -> Result<u8, String> {
    let roots = args
        .oids
        .iter()
        .map(|o| WalkRoot::parse(o).map_err(|e| format!("{o}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let oids: Vec<Oid> = roots.iter().map(|r| r.start.clone()).collect();
    let cfg = config(args).await?;
    let v1 = matches!(
        cfg.security,
        Security::Community {
            version: Version::V1,
            ..
        }
    );
    let session = Session::new(Transport::new(), cfg);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut code = 0;
    if walk {
        for (root, oid) in roots.iter().zip(&oids) {
            let (vbs, ends) = session
                .walk_with_end_markers(std::slice::from_ref(root))
                .await
                .map_err(|e| e.to_string())?;
            print(&mut out, &vbs);
            if ends.first() == Some(&Some(EndReason::NoSuchName)) {
                let _ = writeln!(out, "End of MIB");
            } else if vbs.is_empty() {
                // like net-snmp: maybe the root is itself an instance
                if let Ok(got) = session.get(std::slice::from_ref(oid)).await {
                    if !v1 {
                        print(&mut out, &got);
                    }
                }
            }
            if ends.first() == Some(&Some(EndReason::NonIncreasing)) {
                let _ = out.flush();
                eprintln!("Error: OID not increasing under .{oid}");
                code = 1;
            }
        }
    } else {
        let got = session.get(&oids).await.map_err(|e| e.to_string())?;
        if v1 {
            // a v1 agent's noSuchName, which the session turned into a value
            let (missing, ok): (Vec<VarBind>, Vec<VarBind>) = got
                .into_iter()
                .partition(|vb| vb.value == Value::NoSuchObject);
            print(&mut out, &ok);
            let _ = out.flush();
            for vb in &missing {
                eprintln!("Error in packet\nReason: (noSuchName) There is no such variable name in this MIB.\nFailed object: .{}\n", vb.oid);
                code = 2;
            }
        } else {
            print(&mut out, &got);
        }
    }
    let _ = out.flush();
    Ok(code)
}

fn print(out: &mut impl Write, vbs: &[VarBind]) {
    for vb in vbs {
        let _ = writeln!(out, "{}", format_varbind(vb));
    }
}

async fn config(args: &SnmpArgs) -> Result<SessionConfig, String> {
    let target = resolve(&args.target).await?;
    let mut cfg = SessionConfig::new(target, security(&args.sec)?);
    cfg.timeout = timeout(&args.sec)?;
    cfg.retries = args.sec.retries;
    // one outstanding request, as net-snmp: the CLI is for comparing, not for speed
    cfg.max_in_flight = 1;
    cfg.oid_batch_size = args.oids.len().max(1);
    if let Some(c) = &args.walk_options {
        let n = c
            .strip_prefix('r')
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| format!("-C {c}: only r<N> (max-repetitions) is supported"))?;
        cfg.max_repetitions = n.max(1);
    }
    Ok(cfg)
}

/// `-t` as a duration.
pub fn timeout(args: &SecurityArgs) -> Result<Duration, String> {
    Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("-t {}: a positive number of seconds", args.timeout))
}

/// The engine's security parameters from `-v`, `-c` and the v3 flags.
pub fn security(args: &SecurityArgs) -> Result<Security, String> {
    Ok(match args.version.as_str() {
        "1" => Security::Community {
            version: Version::V1,
            community: args.community.as_bytes().to_vec(),
        },
        "2c" | "2" => Security::Community {
            version: Version::V2c,
            community: args.community.as_bytes().to_vec(),
        },
        "3" => usm(args)?,
        v => return Err(format!("-v {v}: use 1, 2c or 3")),
    })
}

fn usm(args: &SecurityArgs) -> Result<Security, String> {
    let name = args.user.as_deref().ok_or("-v 3 needs a user name (-u)")?;
    let level = args.level.to_ascii_lowercase();
    let (auth, privacy) = match level.as_str() {
        "noauthnopriv" | "noauth" | "nanp" => (false, false),
        "authnopriv" | "auth" | "anp" => (true, false),
        "authpriv" | "priv" | "ap" => (true, true),
        l => return Err(format!("-l {l}: noAuthNoPriv, authNoPriv or authPriv")),
    };
    let auth = if auth {
        let p: AuthProtocol = args.auth_protocol.parse().map_err(|e| format!("-a: {e}"))?;
        let pw = args
            .auth_password
            .as_deref()
            .ok_or("this security level needs an auth password (-A)")?;
        Some((p, pw.as_bytes()))
    } else {
        None
    };
    let privacy = if privacy {
        let p: PrivProtocol = args.priv_protocol.parse().map_err(|e| format!("-x: {e}"))?;
        let pw = args
            .priv_password
            .as_deref()
            .ok_or("authPriv needs a privacy password (-X)")?;
        Some((p, pw.as_bytes()))
    } else {
        None
    };
    let user = UsmUser::new(name, auth, privacy).map_err(|e| e.to_string())?;
    let engine_id = args.engine_id.as_deref().map(parse_hex).transpose()?;
    Ok(Security::Usm {
        user,
        context_name: args.context.as_bytes().to_vec(),
        context_engine_id: None,
        engine_id,
    })
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let bad = || format!("-e {s}: an engine ID in hex, 5 to 32 bytes");
    if !h.len().is_multiple_of(2) || !(10..=64).contains(&h.len()) {
        return Err(bad());
    }
    (0..h.len())
        .step_by(2)
        .map(|i| {
            h.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// `host[:port]`, `[v6]:port`, `udp:`/`udp6:` prefixes; port 161 when none is given.
async fn resolve(target: &str) -> Result<SocketAddr, String> {
    let t = target
        .strip_prefix("udp6:")
        .or_else(|| target.strip_prefix("udp:"))
        .unwrap_or(target);
    if t.starts_with("tcp") {
        return Err(format!("{target}: only UDP is supported"));
    }
    if let Ok(a) = t.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 161));
    }
    let (host, port) = match t.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("{target}: bad port `{p}`"))?,
        ),
        None => (t, 161),
    };
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("{target}: {e}"))?
        .next()
        .ok_or_else(|| format!("{target}: no address"))
}
