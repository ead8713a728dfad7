//! USM privacy ciphers over a localized (and extended) privacy key.
//!
//! - DES-CBC (RFC 3414 §8.1): key = K[0..8], pre-IV = K[8..16], IV = pre-IV XOR salt.
//! - 3DES-EDE-CBC (draft-reeder-snmpv3-usm-3desede §5.1): key = K[0..24], pre-IV = K[24..32],
//!   IV = pre-IV XOR salt.
//! - AES-CFB-128 (RFC 3826 §3.1; the same for 192/256 in both drafts): key = K[0..n],
//!   IV = engineBoots ‖ engineTime ‖ salt, boots and time as sent in the message.
//!
//! The 8-byte salt travels in msgPrivacyParameters. For the CBC ciphers it is the encrypting
//! engine's boots ‖ a 32-bit counter (RFC 3414 §8.1.1.1); AES uses a 64-bit counter. The caller
//! passes the counter (sans-IO: no randomness in here). CBC plaintext is padded to 8 bytes with
//! zeros by us; the receiver's BER decoder ignores the padding.

use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

use super::{PrivProtocol, UsmError};

/// Encrypts a BER ScopedPDU; returns the ciphertext and msgPrivacyParameters.
pub(super) fn encrypt(
    proto: PrivProtocol,
    key: &[u8],
    boots: u32,
    time: u32,
    salt: u64,
    plaintext: &[u8],
) -> Result<(Vec<u8>, [u8; 8]), UsmError> {
    let mut data = plaintext.to_vec();
    match proto {
        PrivProtocol::Des | PrivProtocol::TripleDes => {
            let salt = ((u64::from(boots) << 32) | (salt & 0xffff_ffff)).to_be_bytes();
            data.resize(plaintext.len().div_ceil(8) * 8, 0);
            cbc_crypt(proto, key, &salt, &mut data, true)?;
            Ok((data, salt))
        }
        _ => {
            let salt = salt.to_be_bytes();
            aes_cfb(proto, key, &aes_iv(boots, time, &salt), &mut data, true)?;
            Ok((data, salt))
        }
    }
}

/// Decrypts encryptedPDU. A wrong length of salt or ciphertext is a decryption error (RFC 3414
/// §8.3.2, RFC 3826 §3.1.4).
pub(super) fn decrypt(
    proto: PrivProtocol,
    key: &[u8],
    boots: u32,
    time: u32,
    priv_params: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, UsmError> {
    let salt: [u8; 8] = priv_params
        .try_into()
        .map_err(|_| UsmError::DecryptionError)?;
    let mut data = ciphertext.to_vec();
    match proto {
        PrivProtocol::Des | PrivProtocol::TripleDes => {
            if data.is_empty() || !data.len().is_multiple_of(8) {
                return Err(UsmError::DecryptionError);
            }
            cbc_crypt(proto, key, &salt, &mut data, false)?;
        }
        _ => aes_cfb(proto, key, &aes_iv(boots, time, &salt), &mut data, false)?,
    }
    Ok(data)
}

fn aes_iv(boots: u32, time: u32, salt: &[u8; 8]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&boots.to_be_bytes());
    iv[4..8].copy_from_slice(&time.to_be_bytes());
    iv[8..].copy_from_slice(salt);
    iv
}

fn aes_cfb(
    proto: PrivProtocol,
    key: &[u8],
    iv: &[u8; 16],
    data: &mut [u8],
    encrypt: bool,
) -> Result<(), UsmError> {
    let key = key.get(..proto.key_len()).ok_or(UsmError::BadKey)?;
    macro_rules! run {
        ($aes:ty) => {
            if encrypt {
                cfb_mode::Encryptor::<$aes>::new_from_slices(key, iv)
                    .map_err(|_| UsmError::BadKey)?
                    .encrypt(data)
            } else {
                cfb_mode::Decryptor::<$aes>::new_from_slices(key, iv)
                    .map_err(|_| UsmError::BadKey)?
                    .decrypt(data)
            }
        };
    }
    match proto {
        PrivProtocol::Aes128 => run!(aes::Aes128),
        PrivProtocol::Aes192 | PrivProtocol::Aes192Reeder => run!(aes::Aes192),
        PrivProtocol::Aes256 | PrivProtocol::Aes256Reeder => run!(aes::Aes256),
        PrivProtocol::Des | PrivProtocol::TripleDes => return Err(UsmError::BadKey),
    }
    Ok(())
}

/// DES or 3DES in CBC mode over whole 8-byte blocks.
fn cbc_crypt(
    proto: PrivProtocol,
    key: &[u8],
    salt: &[u8; 8],
    data: &mut [u8],
    encrypt: bool,
) -> Result<(), UsmError> {
    let key_len = proto.key_len() - 8;
    let (k, pre_iv) = (key.get(..key_len), key.get(key_len..key_len + 8));
    let (Some(k), Some(pre_iv)) = (k, pre_iv) else {
        return Err(UsmError::BadKey);
    };
    let iv: Vec<u8> = pre_iv.iter().zip(salt).map(|(a, b)| a ^ b).collect();
    macro_rules! run {
        ($c:ty) => {{
            if encrypt {
                let mut m =
                    cbc::Encryptor::<$c>::new_from_slices(k, &iv).map_err(|_| UsmError::BadKey)?;
                for block in data.chunks_exact_mut(8) {
                    m.encrypt_block(block.try_into().map_err(|_| UsmError::BadKey)?);
                }
            } else {
                let mut m =
                    cbc::Decryptor::<$c>::new_from_slices(k, &iv).map_err(|_| UsmError::BadKey)?;
                for block in data.chunks_exact_mut(8) {
                    m.decrypt_block(block.try_into().map_err(|_| UsmError::BadKey)?);
                }
            }
        }};
    }
    match proto {
        PrivProtocol::Des => run!(des::Des),
        PrivProtocol::TripleDes => run!(des::TdesEde3),
        _ => return Err(UsmError::BadKey),
    }
    Ok(())
}
