//! The texts of payloads: names in many scripts, quotes, backslashes, `$$`,
//! empty strings and long values, plus Go's encodings of bytes (base64) and
//! of encrypted values (`CryptoValue`), SAML metadata.

use serde_json::{Value, json};

use crate::rng::Rng;

/// Given names: accents, CJK, Cyrillic, Greek, RTL scripts, apostrophes.
const GIVEN: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Zoë",
    "José",
    "Björn",
    "François",
    "Łukasz",
    "Søren",
    "Ægir",
    "太郎",
    "美咲",
    "Мария",
    "Δημήτρης",
    "محمد",
    "שרה",
    "Nguyễn",
    "Siobhán",
    "O'Shea",
    "Ana-María",
    "Jörg",
    "Chloé",
    "Øystein",
    "Ýr",
];

/// Family names, including ones that need escaping in SQL or JSON.
const FAMILY: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Müller",
    "García",
    "O'Brien",
    "D'Angelo",
    "山田",
    "李",
    "Иванова",
    "Παπαδόπουλος",
    "العلي",
    "כהן",
    "van der Berg",
    "Smith \"Smithy\"",
    "Back\\slash",
    "$$Dollar$$",
    "Ñúñez",
    "Żółć",
    "Þórsdóttir",
];

/// Organisation names.
const ORGS: &[&str] = &[
    "ACME Corp",
    "Müller & Söhne GmbH",
    "株式会社テスト",
    "🚀 Rocket Labs",
    "שלום בע\"מ",
    "O'Reilly \"Media\"",
    "C:\\Temp\\Org",
    "$$money$$ Inc",
    "Ünïcødé Ltd.",
    "شركة المثال",
    "Zürich Versicherung",
    "北京示例有限公司",
    "Ελληνική Εταιρεία",
    "Café & Crème",
    "Tab\tSeparated",
    "Line\nBreak Co",
];

/// Project names.
const PROJECTS: &[&str] = &[
    "Portal",
    "Billing API",
    "モバイルアプリ",
    "Intranet 🌐",
    "Data \"Lake\"",
    "Back\\Office",
    "$$pricing$$",
    "Área de Clientes",
    "بوابة",
];

/// Words for long texts.
const WORDS: &[&str] = &[
    "lorem",
    "ipsum",
    "données",
    "日本語",
    "текст",
    "🚀",
    "שלום",
    "\"quoted\"",
    "back\\slash",
    "$$",
    "naïve",
    "façade",
    "∑",
    "tab\there",
    "O'Neil",
];

/// Language tags as the profile carries them ("und" is Go's root tag).
pub(crate) const LANGUAGES: &[&str] = &[
    "en", "de", "fr", "it", "ja", "zh-Hans", "ar", "he", "pt-BR", "und", "es-419", "rm",
];

/// A given name.
pub(crate) fn given(rng: &mut Rng) -> String {
    rng.one(GIVEN).to_owned()
}

/// A family name.
pub(crate) fn family(rng: &mut Rng) -> String {
    rng.one(FAMILY).to_owned()
}

/// An organisation name, made unique enough by a number now and then.
pub(crate) fn org_name(rng: &mut Rng) -> String {
    let name = rng.one(ORGS);
    if rng.chance(40) {
        format!("{name} {}", rng.range(2, 99))
    } else {
        name.to_owned()
    }
}

/// A project name.
pub(crate) fn project_name(rng: &mut Rng) -> String {
    rng.one(PROJECTS).to_owned()
}

/// A text of `words` words.
pub(crate) fn words(rng: &mut Rng, words: usize) -> String {
    let mut out = String::new();
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.one(WORDS));
    }
    out
}

/// A text of at least `bytes` bytes (a few KB for the long values).
pub(crate) fn long(rng: &mut Rng, bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(rng.one(WORDS));
    }
    out
}

/// A short description: sometimes empty, sometimes long, usually a phrase.
pub(crate) fn description(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => String::new(),
        1 => {
            let n = rng.range(2048, 6144);
            long(rng, n)
        }
        _ => {
            let n = rng.range(2, 8);
            words(rng, n)
        }
    }
}

/// Standard base64 with padding, as Go encodes `[]byte`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Random bytes.
pub(crate) fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| (rng.next_u64() & 0xff) as u8).collect()
}

/// A random lower-case hex string of `n` digits.
pub(crate) fn hex(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
        .collect()
}

/// A bcrypt-like password hash (the `encodedHash` / `hashedSecret` fields).
pub(crate) fn password_hash(rng: &mut Rng) -> String {
    let salt = base64(&bytes(rng, 16));
    let sum = base64(&bytes(rng, 23));
    format!("$2a$14${}{}", &salt[..22], &sum[..31])
}

/// An encrypted value as Go serialises `crypto.CryptoValue` (no JSON tags).
/// The encrypted bytes are ASCII, as the readers expect text inside.
pub(crate) fn crypto_value(rng: &mut Rng) -> Value {
    let plain = hex(rng, 32);
    json!({
        "CryptoType": 0,
        "Algorithm": "aes",
        "KeyID": rng.one(&["userKey", "idpConfigKey", "smsKey"]),
        "Crypted": base64(plain.as_bytes()),
    })
}

/// A PEM-encoded public key, base64 encoded as the key events carry it.
pub(crate) fn public_key(rng: &mut Rng) -> String {
    let body = base64(&bytes(rng, 270));
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
    base64(pem.as_bytes())
}

/// An application's client secret as events before hashed secrets carry
/// it: a `CryptoValue` holding a bcrypt hash or an encrypted text (ASCII
/// inside either way).
pub(crate) fn client_secret(rng: &mut Rng) -> Value {
    if rng.coin() {
        let hash = password_hash(rng);
        json!({
            "CryptoType": 1,
            "Algorithm": "bcrypt",
            "KeyID": "",
            "Crypted": base64(hash.as_bytes()),
        })
    } else {
        let plain = hex(rng, 64);
        json!({
            "CryptoType": 0,
            "Algorithm": "aes",
            "KeyID": rng.one(&["applicationSecret", "k"]),
            "Crypted": base64(plain.as_bytes()),
        })
    }
}

/// The SAML metadata of a service provider with entity id `entity_id`,
/// base64 encoded as Go writes `[]byte`; with a signing certificate now and
/// then, which makes it a few KB.
pub(crate) fn saml_metadata(rng: &mut Rng, entity_id: &str) -> String {
    let key = if rng.chance(40) {
        let n = rng.range(1200, 2400);
        let cert = base64(&bytes(rng, n));
        format!(
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo \
             xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>\
             <ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>\
             </ds:KeyInfo></md:KeyDescriptor>"
        )
    } else {
        String::new()
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor \
         xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{entity_id}\">\
         <md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
         {key}<md:AssertionConsumerService \
         Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
         Location=\"{entity_id}/acs\" index=\"0\"/></md:SPSSODescriptor>\
         </md:EntityDescriptor>\n"
    );
    base64(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }
}
