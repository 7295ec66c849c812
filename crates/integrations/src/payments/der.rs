//! Just enough DER reading to find an RSA key inside a SubjectPublicKeyInfo or an X.509
//! certificate, and a certificate's serial: `ring` verifies with the bare PKCS#1 key only.

/// One tag-length-value element and what follows it.
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
    rest: &'a [u8],
}

fn element(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first, after_len) = after_tag.split_first()?;
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        // Long form: the low bits count the length bytes; four are more than any key needs.
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || after_len.len() < count {
            return None;
        }
        let length = after_len[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (length, 2 + count)
    };
    let end = header.checked_add(length)?;
    if input.len() < end {
        return None;
    }
    Some(Element {
        tag,
        content: &input[header..end],
        whole: &input[..end],
        rest: &input[end..],
    })
}

fn expect(input: &[u8], tag: u8) -> Option<Element<'_>> {
    element(input).filter(|e| e.tag == tag)
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const VERSION: u8 = 0xa0;
/// 1.2.840.113549.1.1.1, rsaEncryption.
const RSA_ENCRYPTION_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];

/// The PKCS#1 `RSAPublicKey` inside a DER SubjectPublicKeyInfo, if it is an RSA key.
pub(super) fn rsa_key_of_spki(spki: &[u8]) -> Option<&[u8]> {
    let outer = expect(spki, SEQUENCE)?;
    if !outer.rest.is_empty() {
        return None;
    }
    let algorithm = expect(outer.content, SEQUENCE)?;
    if !algorithm.content.starts_with(RSA_ENCRYPTION_OID) {
        return None;
    }
    let bits = expect(algorithm.rest, BIT_STRING)?;
    // The first content byte counts unused bits, always 0 for a key.
    match bits.content.split_first()? {
        (0, key) => Some(key),
        _ => None,
    }
}

/// A certificate's serial number as WeChat Pay writes it (upper-case hex, no sign byte) and
/// its SubjectPublicKeyInfo.
pub(super) fn certificate_serial_and_spki(certificate: &[u8]) -> Option<(String, &[u8])> {
    let certificate = expect(certificate, SEQUENCE)?;
    let tbs = expect(certificate.content, SEQUENCE)?;
    let mut fields = tbs.content;
    if let Some(version) = expect(fields, VERSION) {
        fields = version.rest;
    }
    let serial = expect(fields, INTEGER)?;
    let mut serial_bytes = serial.content;
    while serial_bytes.len() > 1 && serial_bytes[0] == 0 {
        serial_bytes = &serial_bytes[1..];
    }
    // signature algorithm, issuer, validity, subject, then the key.
    let mut rest = serial.rest;
    for _ in 0..4 {
        rest = expect(rest, SEQUENCE)?.rest;
    }
    let spki = expect(rest, SEQUENCE)?;
    Some((hex::encode_upper(serial_bytes), spki.whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_and_truncation() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let parsed = element(&long).expect("long form");
        assert_eq!(parsed.content.len(), 0x80);
        assert!(element(&long[..50]).is_none(), "a cut element is refused");
        assert!(element(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
    }

    #[test]
    fn a_non_rsa_key_is_refused() {
        // An EC P-256 SubjectPublicKeyInfo header: id-ecPublicKey, not rsaEncryption.
        let ec = [
            0x30, 0x13, 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x03,
            0x06, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04,
        ];
        assert!(rsa_key_of_spki(&ec).is_none());
    }
}
