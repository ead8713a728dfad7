//! SNMPv1 Trap-PDU → SNMPv2 notification (RFC 3584 §3.1):
//! - generic-trap 0..=5 (coldStart … egpNeighborLoss) → snmpTraps.(generic + 1), the standard
//!   SNMPv2-MIB notifications 1.3.6.1.6.3.1.1.5.1 … .6;
//! - generic-trap 6 (enterpriseSpecific) → enterprise.0.specific-trap;
//! - sysUpTime.0 = the Trap-PDU's time-stamp; the variables are the Trap-PDU's, unchanged.
//!
//! RFC 3584 also appends snmpTrapEnterprise.0 (the enterprise field); here it is
//! [`V1Origin::enterprise`] (the record's `enterpriseOID`, as Datadog's), with the agent
//! address, generic and specific trap beside it. snmpTrapAddress.0 and snmpTrapCommunity.0 are
//! only for proxies that forward the notification, which we are not (and a community is a
//! secret, never forwarded).

use super::{Notification, V1Origin};
use crate::proto::snmp::message::TrapV1Pdu;
use crate::proto::snmp::oid::Oid;

/// snmpTraps (SNMPv2-MIB): the generic traps are its children 1..=6.
const SNMP_TRAPS: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 5];

/// generic-trap enterpriseSpecific.
const ENTERPRISE_SPECIFIC: i32 = 6;

/// snmpTrapOID.0 of a v1 trap; `None` for a generic-trap outside 0..=6 (RFC 1157 defines no
/// other) or an enterprise too long to extend.
pub fn trap_oid(t: &TrapV1Pdu) -> Option<Oid> {
    match t.generic_trap {
        0..=5 => {
            let mut arcs = SNMP_TRAPS.to_vec();
            arcs.push(u32::try_from(t.generic_trap).ok()? + 1);
            Oid::from_arcs(&arcs).ok()
        }
        ENTERPRISE_SPECIFIC => {
            let specific = u32::try_from(t.specific_trap).ok()?;
            t.enterprise.child(0).ok()?.child(specific).ok()
        }
        _ => None,
    }
}

/// The notification for a v1 trap.
pub fn translate(t: TrapV1Pdu) -> Result<Notification, &'static str> {
    let trap_oid = trap_oid(&t).ok_or("bad_v1_trap")?;
    Ok(Notification {
        version: 1,
        inform: false,
        uptime: Some(t.timestamp),
        trap_oid,
        v1: Some(V1Origin {
            enterprise: t.enterprise,
            agent_addr: t.agent_addr,
            generic_trap: t.generic_trap,
            specific_trap: t.specific_trap,
        }),
        varbinds: t.varbinds,
        user: None,
        engine_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap(generic: i32, specific: i32) -> TrapV1Pdu {
        TrapV1Pdu {
            enterprise: "1.3.6.1.4.1.8072.2.3".parse().unwrap(),
            agent_addr: [192, 0, 2, 7].into(),
            generic_trap: generic,
            specific_trap: specific,
            timestamp: 777,
            varbinds: vec![],
        }
    }

    #[test]
    fn generic_traps_map_to_snmp_traps_and_enterprise_specific_to_dot_zero() {
        let want = [
            (0, "1.3.6.1.6.3.1.1.5.1"), // coldStart
            (2, "1.3.6.1.6.3.1.1.5.3"), // linkDown
            (3, "1.3.6.1.6.3.1.1.5.4"), // linkUp
            (4, "1.3.6.1.6.3.1.1.5.5"), // authenticationFailure
            (5, "1.3.6.1.6.3.1.1.5.6"), // egpNeighborLoss
        ];
        for (g, oid) in want {
            assert_eq!(trap_oid(&trap(g, 0)).unwrap().to_string(), oid);
        }
        assert_eq!(
            trap_oid(&trap(6, 17)).unwrap().to_string(),
            "1.3.6.1.4.1.8072.2.3.0.17"
        );
        assert_eq!(trap_oid(&trap(7, 0)), None);
        assert_eq!(trap_oid(&trap(-1, 0)), None);
        let n = translate(trap(6, 17)).unwrap();
        assert_eq!((n.version, n.uptime), (1, Some(777)));
        let v1 = n.v1.unwrap();
        assert_eq!(v1.enterprise.to_string(), "1.3.6.1.4.1.8072.2.3");
        assert_eq!((v1.generic_trap, v1.specific_trap), (6, 17));
        assert_eq!(translate(trap(9, 0)).unwrap_err(), "bad_v1_trap");
    }
}
