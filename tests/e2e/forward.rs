//! `syslog_forward`: RFC 5425 (octet-counted syslog over TLS) to rsyslog as the collector,
//! verifying the server certificate against the test CA.

use std::net::UdpSocket;

use crate::harness::*;

#[test]
fn forwards_to_rsyslog_over_tls() {
    let dir = scratch("fwd");
    let tls = certs(&dir);
    let (tls_port, tcp_port, udp_port) = (free_port(), free_port(), free_port());
    let env = vec![
        ("TLS_DIR".to_string(), tls.display().to_string()),
        ("RSYSLOG_TLS_PORT".to_string(), tls_port.to_string()),
        ("RSYSLOG_TCP_PORT".to_string(), tcp_port.to_string()),
        ("RSYSLOG_UDP_PORT".to_string(), udp_port.to_string()),
    ];
    let mut c = peer("rsyslog.sh", &dir);
    c.args(["start", "recv"])
        .envs(env.iter().map(|(k, v)| (k, v)));
    run(&mut c);
    let _guard = PeerGuard {
        script: "rsyslog.sh",
        args: vec!["recv".into()],
        peers: dir.clone(),
        env,
    };
    let yaml = format!(
        "syslog:\n  udp: {{ listen: 127.0.0.1:0 }}\napi: {{ listen: 127.0.0.1:0 }}\nsnmp:\n  devices: [{{ ip_address: 127.0.0.1, name: core-sw01 }}]\noutputs:\n  stdout: {{ enabled: false }}\n  syslog_forward:\n    - {{ address: \"127.0.0.1:{tls_port}\", tls: true, ca_file: {}/ca.pem }}\n",
        tls.display()
    );
    let nb = Nocbox::start("fwd", &yaml);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        b"<187>5678: 5674: Aug 14 2026 09:21:07.118 UTC: %LINK-3-UPDOWN: forwarded \"quoted\" line",
        nb.addr("syslog_udp"),
    )
    .unwrap();
    for i in 0..100 {
        udp.send_to(
            format!("<14>Aug 14 09:30:33 srx-fw01 RT_FLOW: RT_FLOW_SESSION_CLOSE: fwd {i}")
                .as_bytes(),
            nb.addr("syslog_udp"),
        )
        .unwrap();
    }
    let fields = dir.join("rsyslog/recv-fields.log");
    let text = wait_for(20, || {
        let t = std::fs::read_to_string(&fields).unwrap_or_default();
        (t.lines().count() >= 101).then_some(t)
    })
    .unwrap_or_else(|| {
        panic!(
            "rsyslog got: {:?}; log:\n{}",
            std::fs::read_to_string(&fields),
            nb.log()
        )
    });
    let link = text.lines().find(|l| l.contains("forwarded")).unwrap();
    assert!(link.contains("in=tls"), "{link}");
    assert!(link.contains("host=core-sw01"), "{link}");
    assert!(
        link.contains("sev=err") || link.contains("pri=187"),
        "{link}"
    );
    assert!(
        link.contains("msg=%LINK-3-UPDOWN: forwarded \"quoted\" line"),
        "{link}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("RT_FLOW_SESSION_CLOSE: fwd"))
            .count(),
        100
    );
    assert!(nb.counter("nocbox.output.sent", &[("output", "syslog_forward_0")]) >= 101);
}
