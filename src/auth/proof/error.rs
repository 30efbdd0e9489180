//! Why a proof was rejected before any network call: one variant per check.

use crate::arn::partition::Partition;

/// A proof that failed a pre-check (docs/semantics.md §5). Every variant names one check;
/// [`ProofError::code`] gives a stable name for tests, logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof is longer than the configured limit.
    #[error("the proof is {len} bytes long; at most {max} are accepted")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The proof is not four `|`-separated parts.
    #[error(
        "a proof is four `|`-separated parts (base64 body | base64 headers | METHOD | base64 URL); this one has {0}"
    )]
    Parts(usize),
    /// A part is not valid standard base64.
    #[error("the {0} part is not valid base64")]
    Base64(&'static str),
    /// A decoded part is not UTF-8.
    #[error("the {0} part is not UTF-8 text")]
    Utf8(&'static str),
    /// The headers part is not a JSON object of string arrays.
    #[error("the headers part is not a JSON object of {{name: [values]}}: {0}")]
    HeadersJson(String),
    /// Too many headers.
    #[error("the proof carries {count} headers; at most {max} are accepted")]
    TooManyHeaders {
        /// How many it carries.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A header name is not an HTTP token.
    #[error("header name `{0}` is not a valid HTTP header name")]
    HeaderName(String),
    /// A header value holds control characters (CR, LF, NUL…).
    #[error("the value of header `{0}` holds control characters")]
    HeaderValue(String),
    /// A header appears twice (names compare case-insensitively).
    #[error("header `{0}` appears more than once")]
    DuplicateHeader(String),
    /// A header has zero or several values.
    #[error("header `{name}` has {count} values; exactly one is accepted")]
    HeaderValues {
        /// The header.
        name: String,
        /// How many values it has.
        count: usize,
    },
    /// A hop-by-hop or framing header that must never be replayed.
    #[error("header `{0}` controls the connection or framing and is not accepted in a proof")]
    ForbiddenHeader(String),
    /// An `X-Amz-*` header outside the expected set.
    #[error(
        "unexpected header `{0}`: only X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-Sha256 are accepted"
    )]
    UnexpectedAmzHeader(String),
    /// The method is not `POST`.
    #[error("the method is `{0}`; a GetCallerIdentity proof is a POST")]
    Method(String),
    /// The URL cannot be parsed as `scheme://authority/path`.
    #[error("the URL `{0}` is malformed")]
    Url(String),
    /// The URL's scheme is not `https`.
    #[error("the URL scheme is `{0}`; only https is accepted")]
    UrlScheme(String),
    /// The URL carries user information (`user@host`).
    #[error("the URL carries user information, which is not accepted")]
    UrlUserinfo,
    /// The URL names a port.
    #[error("the URL names port `{0}`; STS is reached on the default https port only")]
    UrlPort(String),
    /// The URL's path is not `/`.
    #[error("the URL path is `{0}`; GetCallerIdentity is posted to `/`")]
    UrlPath(String),
    /// The URL has a query string.
    #[error("the URL has a query string; the action belongs in the body")]
    UrlQuery,
    /// The URL has a fragment.
    #[error("the URL has a fragment")]
    UrlFragment,
    /// The host is not an STS endpoint of any known partition.
    #[error(
        "`{0}` is not an allowlisted STS host (sts.amazonaws.com, sts[-fips].REGION.<partition suffix>)"
    )]
    Host(String),
    /// The host's partition is not allowed by the configuration.
    #[error("STS host `{host}` is in partition `{partition}`, which is not allowed")]
    PartitionNotAllowed {
        /// The host.
        host: String,
        /// Its partition.
        partition: Partition,
    },
    /// The host's region is not allowed by the configuration.
    #[error("STS host `{host}` is in region `{region}`, which is not allowed")]
    RegionNotAllowed {
        /// The host.
        host: String,
        /// Its region.
        region: String,
    },
    /// The body is not exactly the GetCallerIdentity action.
    #[error("the body must be `Action=GetCallerIdentity&Version=2011-06-15`, found `{0}`")]
    Body(String),
    /// `Content-Length` disagrees with the body.
    #[error("Content-Length is `{header}` but the body is {body} bytes long")]
    ContentLength {
        /// The header's value.
        header: String,
        /// The body's length.
        body: usize,
    },
    /// `Content-Type` is not a form encoding.
    #[error("Content-Type is `{0}`; expected application/x-www-form-urlencoded")]
    ContentType(String),
    /// A required header is missing.
    #[error("the `{0}` header is missing")]
    MissingHeader(String),
    /// The Host header names another host than the URL.
    #[error("the Host header `{header}` disagrees with the URL host `{url}`")]
    HostMismatch {
        /// The Host header.
        header: String,
        /// The URL's host.
        url: String,
    },
    /// The Authorization scheme is not `AWS4-HMAC-SHA256`.
    #[error("the Authorization header is not AWS4-HMAC-SHA256 (SigV4)")]
    AuthScheme,
    /// The Authorization header is not `Credential=…, SignedHeaders=…, Signature=…`.
    #[error("the Authorization header is malformed: {0}")]
    AuthSyntax(String),
    /// The access key id is not 16 to 128 upper-case letters and digits.
    #[error("access key id `{0}` is malformed")]
    AccessKeyId(String),
    /// The credential scope is not `DATE/REGION/sts/aws4_request`.
    #[error("the credential scope `{0}` is not DATE/REGION/sts/aws4_request")]
    CredentialScope(String),
    /// `SignedHeaders` is not a sorted list of distinct lower-case names.
    #[error("SignedHeaders `{0}` is not a sorted `;`-list of distinct lower-case names")]
    SignedHeadersSyntax(String),
    /// A header that must be signed is not.
    #[error("header `{0}` must be signed but is not in SignedHeaders")]
    Unsigned(String),
    /// `SignedHeaders` names a header the proof does not carry.
    #[error("SignedHeaders names `{0}` but the proof does not carry it")]
    SignedHeaderAbsent(String),
    /// `SignedHeaders` names a header outside the expected set.
    #[error("SignedHeaders names `{0}`, which a GetCallerIdentity proof never signs")]
    SignedHeaderUnexpected(String),
    /// The signature is not 64 lower-case hex digits.
    #[error("the signature is not 64 lower-case hex digits")]
    Signature,
    /// The org header is absent.
    #[error("the org binding header `{0}` is missing")]
    OrgMissing(String),
    /// The org header names another org.
    #[error("the proof is bound to org `{got}`, not to `{want}`")]
    OrgMismatch {
        /// The org in the proof.
        got: String,
        /// The org asked for.
        want: String,
    },
    /// `X-Amz-Date` is not `YYYYMMDD'T'HHMMSS'Z'`.
    #[error("X-Amz-Date `{0}` is not YYYYMMDDTHHMMSSZ")]
    AmzDate(String),
    /// `X-Amz-Date` is too far in the past.
    #[error("the proof was signed {age_secs}s ago; at most {max_secs}s are accepted")]
    Expired {
        /// Its age in seconds.
        age_secs: u64,
        /// The window.
        max_secs: u64,
    },
    /// `X-Amz-Date` is too far in the future.
    #[error("the proof is dated {ahead_secs}s in the future; at most {max_secs}s are accepted")]
    FutureDated {
        /// How far ahead it is.
        ahead_secs: u64,
        /// The window.
        max_secs: u64,
    },
    /// The credential-scope date is not the day of `X-Amz-Date`.
    #[error("the credential scope is dated {scope} but X-Amz-Date is {date}")]
    ScopeDate {
        /// The scope's date.
        scope: String,
        /// X-Amz-Date.
        date: String,
    },
    /// The credential-scope region is not the host's region.
    #[error("the credential scope names region `{scope}` but host `{host}` is in `{host_region}`")]
    ScopeRegion {
        /// The scope's region.
        scope: String,
        /// The host.
        host: String,
        /// The host's region.
        host_region: String,
    },
}

impl ProofError {
    /// A stable name for the check that failed (the variant's name).
    pub const fn code(&self) -> &'static str {
        match self {
            ProofError::TooLarge { .. } => "TooLarge",
            ProofError::Parts(_) => "Parts",
            ProofError::Base64(_) => "Base64",
            ProofError::Utf8(_) => "Utf8",
            ProofError::HeadersJson(_) => "HeadersJson",
            ProofError::TooManyHeaders { .. } => "TooManyHeaders",
            ProofError::HeaderName(_) => "HeaderName",
            ProofError::HeaderValue(_) => "HeaderValue",
            ProofError::DuplicateHeader(_) => "DuplicateHeader",
            ProofError::HeaderValues { .. } => "HeaderValues",
            ProofError::ForbiddenHeader(_) => "ForbiddenHeader",
            ProofError::UnexpectedAmzHeader(_) => "UnexpectedAmzHeader",
            ProofError::Method(_) => "Method",
            ProofError::Url(_) => "Url",
            ProofError::UrlScheme(_) => "UrlScheme",
            ProofError::UrlUserinfo => "UrlUserinfo",
            ProofError::UrlPort(_) => "UrlPort",
            ProofError::UrlPath(_) => "UrlPath",
            ProofError::UrlQuery => "UrlQuery",
            ProofError::UrlFragment => "UrlFragment",
            ProofError::Host(_) => "Host",
            ProofError::PartitionNotAllowed { .. } => "PartitionNotAllowed",
            ProofError::RegionNotAllowed { .. } => "RegionNotAllowed",
            ProofError::Body(_) => "Body",
            ProofError::ContentLength { .. } => "ContentLength",
            ProofError::ContentType(_) => "ContentType",
            ProofError::MissingHeader(_) => "MissingHeader",
            ProofError::HostMismatch { .. } => "HostMismatch",
            ProofError::AuthScheme => "AuthScheme",
            ProofError::AuthSyntax(_) => "AuthSyntax",
            ProofError::AccessKeyId(_) => "AccessKeyId",
            ProofError::CredentialScope(_) => "CredentialScope",
            ProofError::SignedHeadersSyntax(_) => "SignedHeadersSyntax",
            ProofError::Unsigned(_) => "Unsigned",
            ProofError::SignedHeaderAbsent(_) => "SignedHeaderAbsent",
            ProofError::SignedHeaderUnexpected(_) => "SignedHeaderUnexpected",
            ProofError::Signature => "Signature",
            ProofError::OrgMissing(_) => "OrgMissing",
            ProofError::OrgMismatch { .. } => "OrgMismatch",
            ProofError::AmzDate(_) => "AmzDate",
            ProofError::Expired { .. } => "Expired",
            ProofError::FutureDated { .. } => "FutureDated",
            ProofError::ScopeDate { .. } => "ScopeDate",
            ProofError::ScopeRegion { .. } => "ScopeRegion",
        }
    }
}
