//! Signing keys: generation, PKCS#8 PEM files, public JWKs and the key ring
//! (one signing key, any number of verification keys) kept in a directory.
//!
//! On disk a key ring is a directory of `<kid>.pem` files (PKCS#8 private
//! keys, mode 0600) and a file `signing` naming the kid that signs. Every key
//! in the directory verifies, so rotation is: add a key, point `signing` at it,
//! and delete the old file once the tokens it signed have expired
//! (`arnmap keys rotate`).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};

use super::error::KeyStoreError;

/// The signature algorithms arnmap issues tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlgorithm {
    /// Ed25519 (the default): small keys and signatures, no parameter choices.
    #[default]
    EdDSA,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys when generated.
    RS256,
}

impl SigningAlgorithm {
    /// The `jsonwebtoken` algorithm.
    pub fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::EdDSA => Algorithm::EdDSA,
            SigningAlgorithm::ES256 => Algorithm::ES256,
            SigningAlgorithm::RS256 => Algorithm::RS256,
        }
    }

    fn jwk(self) -> KeyAlgorithm {
        match self {
            SigningAlgorithm::EdDSA => KeyAlgorithm::EdDSA,
            SigningAlgorithm::ES256 => KeyAlgorithm::ES256,
            SigningAlgorithm::RS256 => KeyAlgorithm::RS256,
        }
    }
}

impl std::str::FromStr for SigningAlgorithm {
    type Err = KeyStoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EdDSA" => Ok(SigningAlgorithm::EdDSA),
            "ES256" => Ok(SigningAlgorithm::ES256),
            "RS256" => Ok(SigningAlgorithm::RS256),
            other => Err(KeyStoreError::Config(format!(
                "unknown algorithm {other:?}; expected EdDSA, ES256 or RS256"
            ))),
        }
    }
}

/// Bits of a generated RSA key.
const RSA_BITS: usize = 2048;

/// One key pair: what signs, what verifies, and its public JWK.
pub struct KeyPair {
    algorithm: SigningAlgorithm,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
    pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private material.
        f.debug_struct("KeyPair")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn key_error(path: &str, reason: impl ToString) -> KeyStoreError {
    KeyStoreError::Key {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl KeyPair {
    /// Generates a new key with the operating system's random source.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<KeyPair, KeyStoreError> {
        use rand_core::OsRng;
        let pem = match algorithm {
            SigningAlgorithm::EdDSA => {
                use ed25519_dalek::pkcs8::EncodePrivateKey as _;
                ed25519_dalek::SigningKey::generate(&mut OsRng)
                    .to_pkcs8_pem(Default::default())
                    .map_err(|e| key_error("generated", e))?
                    .to_string()
            }
            SigningAlgorithm::ES256 => {
                use p256::pkcs8::EncodePrivateKey as _;
                p256::SecretKey::random(&mut OsRng)
                    .to_pkcs8_pem(Default::default())
                    .map_err(|e| key_error("generated", e))?
                    .to_string()
            }
            SigningAlgorithm::RS256 => {
                use rsa::pkcs8::EncodePrivateKey as _;
                rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                    .map_err(|e| key_error("generated", e))?
                    .to_pkcs8_pem(Default::default())
                    .map_err(|e| key_error("generated", e))?
                    .to_string()
            }
        };
        KeyPair::from_pem(&pem, "generated")
    }

    /// Reads a PKCS#8 PEM private key (Ed25519, P-256 or RSA); the algorithm
    /// follows from the key. `origin` names the key in errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<KeyPair, KeyStoreError> {
        let (algorithm, params) = public_parameters(pem).ok_or_else(|| {
            key_error(
                origin,
                "not a PKCS#8 PEM private key for Ed25519, P-256 or RSA",
            )
        })?;
        let encoding = match algorithm {
            SigningAlgorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
            SigningAlgorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            SigningAlgorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .map_err(|e| key_error(origin, e))?;
        let mut jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(algorithm.jwk()),
                ..Default::default()
            },
            algorithm: params,
        };
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| key_error(origin, e))?;
        Ok(KeyPair {
            algorithm,
            kid,
            encoding,
            decoding,
            jwk,
            pem: pem.to_owned(),
        })
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (with `kid`, `alg` and `use: sig`).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub(crate) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Writes the private key as `<dir>/<kid>.pem`, mode 0600, atomically.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, KeyStoreError> {
        let path = dir.join(format!("{}.pem", self.kid));
        write_private(&path, self.pem.as_bytes())?;
        Ok(path)
    }
}

/// The algorithm and public JWK parameters of a PKCS#8 PEM private key.
fn public_parameters(pem: &str) -> Option<(SigningAlgorithm, AlgorithmParameters)> {
    {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            let params = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: b64(key.verifying_key().as_bytes()),
            });
            return Some((SigningAlgorithm::EdDSA, params));
        }
    }
    {
        use p256::elliptic_curve::sec1::ToEncodedPoint as _;
        use p256::pkcs8::DecodePrivateKey as _;
        if let Ok(key) = p256::SecretKey::from_pkcs8_pem(pem) {
            let point = key.public_key().to_encoded_point(false);
            let (x, y) = (point.x()?, point.y()?);
            let params = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: b64(x),
                y: b64(y),
            });
            return Some((SigningAlgorithm::ES256, params));
        }
    }
    {
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            let params = AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: b64(&key.n().to_bytes_be()),
                e: b64(&key.e().to_bytes_be()),
            });
            return Some((SigningAlgorithm::RS256, params));
        }
    }
    None
}

/// Creates `dir` (and its parents) if needed and makes it readable by its
/// owner only (mode 0700).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600: a temporary file created fresh,
/// synced, then renamed over `path`.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyStoreError> {
    let shown = path.display().to_string();
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| key_error(&shown, e))?;
    file.write_all(bytes).map_err(|e| key_error(&shown, e))?;
    file.sync_all().map_err(|e| key_error(&shown, e))?;
    fs::rename(&tmp, path).map_err(|e| key_error(&shown, e))?;
    if let Some(parent) = path.parent()
        && let Ok(dir) = fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// One signing key and every key that verifies.
#[derive(Debug)]
pub struct KeyRing {
    signing: String,
    keys: Vec<KeyPair>,
}

/// The file in a key directory that names the signing kid.
const SIGNING_FILE: &str = "signing";

impl KeyRing {
    /// A ring of one key that both signs and verifies.
    pub fn single(key: KeyPair) -> KeyRing {
        KeyRing {
            signing: key.kid.clone(),
            keys: vec![key],
        }
    }

    /// A ring whose first key signs and all verify.
    pub fn new(signing: KeyPair, others: Vec<KeyPair>) -> KeyRing {
        let mut ring = KeyRing::single(signing);
        for key in others {
            if ring.get(&key.kid).is_none() {
                ring.keys.push(key);
            }
        }
        ring
    }

    /// Opens the key directory `dir`, creating it with one new `algorithm` key
    /// when it holds no key yet. Refuses a directory whose signing key has
    /// another algorithm than `algorithm` (change algorithms by rotating).
    pub fn open_or_create(
        dir: &Path,
        algorithm: SigningAlgorithm,
    ) -> Result<KeyRing, KeyStoreError> {
        let shown = dir.display().to_string();
        create_private_dir(dir).map_err(|e| key_error(&shown, e))?;
        if !dir.join(SIGNING_FILE).exists() {
            let key = KeyPair::generate(algorithm)?;
            key.save(dir)?;
            write_private(&dir.join(SIGNING_FILE), key.kid.as_bytes())?;
        }
        let ring = KeyRing::open(dir)?;
        if ring.signing_key()?.algorithm != algorithm {
            return Err(KeyStoreError::Config(format!(
                "the signing key in {shown} is {:?}, the configuration asks for {algorithm:?}; \
                 run `arnmap keys rotate --algorithm {algorithm:?}` to change",
                ring.signing_key()?.algorithm
            )));
        }
        Ok(ring)
    }

    /// Opens an existing key directory.
    pub fn open(dir: &Path) -> Result<KeyRing, KeyStoreError> {
        let shown = dir.display().to_string();
        let signing_path = dir.join(SIGNING_FILE);
        let signing = fs::read_to_string(&signing_path)
            .map_err(|e| key_error(&signing_path.display().to_string(), e))?
            .trim()
            .to_owned();
        let mut keys = Vec::new();
        let entries = fs::read_dir(dir).map_err(|e| key_error(&shown, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pem"))
            .collect();
        paths.sort();
        for path in paths {
            let origin = path.display().to_string();
            let pem = fs::read_to_string(&path).map_err(|e| key_error(&origin, e))?;
            keys.push(KeyPair::from_pem(&pem, &origin)?);
        }
        let ring = KeyRing { signing, keys };
        ring.signing_key()?;
        Ok(ring)
    }

    /// Adds a new `algorithm` key to `dir` and makes it the signing key; the
    /// old keys keep verifying. Returns the new kid.
    pub fn rotate(dir: &Path, algorithm: SigningAlgorithm) -> Result<String, KeyStoreError> {
        let key = KeyPair::generate(algorithm)?;
        create_private_dir(dir).map_err(|e| key_error(&dir.display().to_string(), e))?;
        key.save(dir)?;
        write_private(&dir.join(SIGNING_FILE), key.kid.as_bytes())?;
        Ok(key.kid)
    }

    /// The key that signs.
    pub fn signing_key(&self) -> Result<&KeyPair, KeyStoreError> {
        self.get(&self.signing).ok_or_else(|| {
            KeyStoreError::Config(format!(
                "the signing key {:?} is not in the ring",
                self.signing
            ))
        })
    }

    /// The verification key with this kid.
    pub fn get(&self, kid: &str) -> Option<&KeyPair> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Every verification key.
    pub fn keys(&self) -> &[KeyPair] {
        &self.keys
    }
}
