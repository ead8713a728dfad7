//! GET and GETNEXT in batches: tooBig splits a batch, v1 noSuchName drops one OID and retries
//! the rest, up to `max_in_flight` batches at once.

use std::collections::VecDeque;

use super::{bump, lock, next_done, InFlight, Session};
use crate::proto::snmp::client::{generic_pdu, status, SnmpError};
use crate::proto::snmp::message::{GenericPdu, PduKind, Value, VarBind};
use crate::proto::snmp::Oid;

impl Session {
    pub(super) async fn batched(
        &self,
        kind: PduKind,
        oids: &[Oid],
    ) -> Result<Vec<VarBind>, SnmpError> {
        let mut out: Vec<Option<VarBind>> = vec![None; oids.len()];
        let batch = lock(&self.sizes).batch.current() as usize;
        let idx: Vec<usize> = (0..oids.len()).collect();
        let mut queue: VecDeque<Vec<usize>> = idx.chunks(batch).map(<[usize]>::to_vec).collect();
        let mut running: Vec<InFlight<'_, Vec<usize>>> = Vec::new();
        loop {
            while running.len() < self.cfg.max_in_flight.max(1) {
                let Some(chunk) = queue.pop_front() else {
                    break;
                };
                let req: Vec<Oid> = chunk.iter().map(|&i| oids[i].clone()).collect();
                running.push(Box::pin(async move {
                    let counter = match kind {
                        PduKind::GetNext => &self.counters.getnext,
                        _ => &self.counters.get,
                    };
                    let r = self
                        .request(|id| generic_pdu(kind, id, &req), counter)
                        .await;
                    (chunk, r)
                }));
            }
            let Some((chunk, r)) = next_done(&mut running).await else {
                break;
            };
            let pdu = r?;
            lock(&self.sizes).answered = true;
            let now = self.now();
            match pdu.error_status {
                status::NO_ERROR => {
                    if pdu.varbinds.len() != chunk.len() {
                        return Err(SnmpError::Malformed {
                            target: self.cfg.target,
                            what: format!(
                                "{} varbinds in the reply to {}",
                                pdu.varbinds.len(),
                                chunk.len()
                            ),
                        });
                    }
                    lock(&self.sizes).batch.success(chunk.len() as u32, now);
                    for (i, vb) in chunk.into_iter().zip(pdu.varbinds) {
                        out[i] = Some(vb);
                    }
                }
                status::TOO_BIG if chunk.len() > 1 => {
                    bump(&self.counters.too_big);
                    lock(&self.sizes).batch.failure(chunk.len() as u32, now);
                    let (a, b) = chunk.split_at(chunk.len() / 2);
                    queue.push_front(b.to_vec());
                    queue.push_front(a.to_vec());
                }
                status::NO_SUCH_NAME if self.is_v1() => {
                    let at = usize::try_from(pdu.error_index).unwrap_or(0);
                    let Some(&bad) = at.checked_sub(1).and_then(|i| chunk.get(i)) else {
                        return Err(self.error_status(&pdu, &chunk, oids));
                    };
                    let value = match kind {
                        PduKind::GetNext => Value::EndOfMibView,
                        _ => Value::NoSuchObject,
                    };
                    out[bad] = Some(VarBind::new(oids[bad].clone(), value));
                    let rest: Vec<usize> = chunk.into_iter().filter(|&i| i != bad).collect();
                    if !rest.is_empty() {
                        queue.push_front(rest);
                    }
                }
                _ => return Err(self.error_status(&pdu, &chunk, oids)),
            }
        }
        Ok(out
            .into_iter()
            .zip(oids)
            .map(|(v, o)| v.unwrap_or_else(|| VarBind::new(o.clone(), Value::NoSuchObject)))
            .collect())
    }

    fn error_status(&self, pdu: &GenericPdu, chunk: &[usize], oids: &[Oid]) -> SnmpError {
        let index = u32::try_from(pdu.error_index).unwrap_or(0);
        let oid = (index as usize)
            .checked_sub(1)
            .and_then(|i| chunk.get(i))
            .and_then(|&i| oids.get(i))
            .cloned();
        SnmpError::ErrorStatus {
            target: self.cfg.target,
            status: pdu.error_status,
            index,
            oid,
        }
    }
}
