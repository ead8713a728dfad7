//! Helpers shared by the benchmark examples (`mod support;` in each). Each example uses part of
//! this module, so the rest is dead code for it.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use nocbox::proto::snmp::message::{
    encode, CommunityMessage, GenericPdu, Message, PduKind, Version,
};
use nocbox::proto::snmp::{Oid, Pdu, Value, VarBind};

/// Mean nanoseconds per call of `f` over `n` calls.
pub fn per_op(n: u32, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

/// `ADDR RATE SECONDS [SOCKETS] [REST...]` of a load generator.
pub struct LoadArgs {
    pub addr: SocketAddr,
    pub rate: f64,
    pub seconds: f64,
    pub sockets: usize,
    /// Arguments after SOCKETS.
    pub rest: Vec<String>,
}

impl LoadArgs {
    /// Parses the command line; prints `usage` and exits 2 when it is wrong or ADDR is not on
    /// loopback (the generators only ever target loopback).
    pub fn parse(usage: &str, default_sockets: usize) -> LoadArgs {
        let fail = |why: &str| -> ! {
            eprintln!("{why}\nusage: {usage}   (ADDR on loopback)");
            std::process::exit(2)
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.len() < 3 {
            fail("too few arguments");
        }
        let addr: SocketAddr = args[0]
            .parse()
            .unwrap_or_else(|_| fail("ADDR is not ip:port"));
        if !addr.ip().is_loopback() {
            fail(&format!("{addr} is not a loopback address"));
        }
        LoadArgs {
            addr,
            rate: args[1]
                .parse()
                .unwrap_or_else(|_| fail("RATE is not a number")),
            seconds: args[2]
                .parse()
                .unwrap_or_else(|_| fail("SECONDS is not a number")),
            sockets: args
                .get(3)
                .and_then(|s| s.parse().ok())
                .unwrap_or(default_sockets)
                .max(1),
            rest: args.iter().skip(4).cloned().collect(),
        }
    }

    /// `sockets` non-blocking UDP sockets on loopback, each connected to `addr`, so the load
    /// comes from several source ports.
    pub fn connect(&self) -> Vec<UdpSocket> {
        let bind = if self.addr.is_ipv4() {
            "127.0.0.1:0"
        } else {
            "[::1]:0"
        };
        (0..self.sockets)
            .map(|_| {
                let s = UdpSocket::bind(bind).expect("bind");
                s.connect(self.addr).expect("connect");
                s.set_nonblocking(true).expect("nonblocking");
                s
            })
            .collect()
    }
}

fn oid(s: &str) -> Oid {
    s.parse().expect("OID")
}

/// The benchmark trap: an SNMPv2c linkDown (community `public`; ifIndex 7, ifAdminStatus up,
/// ifOperStatus down) with `seq` in the OCTET STRING variable 1.3.6.1.4.1.8072.9999.1.0.
pub fn linkdown_trap(seq: &str) -> Vec<u8> {
    encode(&Message::Community(CommunityMessage {
        version: Version::V2c,
        community: "public".into(),
        pdu: Pdu::Generic(GenericPdu {
            kind: PduKind::TrapV2,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds: vec![
                VarBind::new(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(123_456)),
                VarBind::new(
                    oid("1.3.6.1.6.3.1.1.4.1.0"),
                    Value::Oid(oid("1.3.6.1.6.3.1.1.5.3")),
                ),
                VarBind::new(oid("1.3.6.1.2.1.2.2.1.1.7"), Value::Integer(7)),
                VarBind::new(oid("1.3.6.1.2.1.2.2.1.7.7"), Value::Integer(1)),
                VarBind::new(oid("1.3.6.1.2.1.2.2.1.8.7"), Value::Integer(2)),
                VarBind::new(
                    oid("1.3.6.1.4.1.8072.9999.1.0"),
                    Value::OctetString(seq.as_bytes().to_vec()),
                ),
            ],
        }),
    }))
}
