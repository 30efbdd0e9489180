//! The STS host allowlist: which hosts a proof may name, and the partition and
//! region each one implies.
//!
//! Built the way aws-iam-authenticator builds its per-partition list (every
//! STS endpoint the SDK's partition table knows), but by rule rather than by
//! enumeration so that new regions need no release:
//!
//! | form | example |
//! |---|---|
//! | global (partition `aws`, region `us-east-1`) | `sts.amazonaws.com` |
//! | regional | `sts.eu-west-1.amazonaws.com`, `sts.cn-north-1.amazonaws.com.cn` |
//! | FIPS | `sts-fips.us-east-1.amazonaws.com` |
//! | dual-stack | `sts.eu-west-1.api.aws`, `sts.cn-north-1.api.amazonwebservices.com.cn` |
//! | FIPS dual-stack | `sts-fips.us-gov-west-1.api.aws` |
//!
//! A region must be well formed for the partition whose DNS suffix the host
//! ends with (`Partition::has_region`), so `sts.cn-north-1.amazonaws.com` and
//! `sts.us-east-1.amazonaws.com.cn` are refused. Names are compared exactly:
//! lower-case, no trailing dot.

use crate::arn::partition::Partition;

/// The one global STS host.
pub const GLOBAL_HOST: &str = "sts.amazonaws.com";
/// The region the global host signs for.
pub const GLOBAL_REGION: &str = "us-east-1";

/// Which kind of STS endpoint a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// `sts.amazonaws.com`
    Global,
    /// `sts.REGION.SUFFIX`
    Regional,
    /// `sts-fips.REGION.SUFFIX`
    Fips,
    /// `sts.REGION.DUALSTACK-SUFFIX`
    DualStack,
    /// `sts-fips.REGION.DUALSTACK-SUFFIX`
    FipsDualStack,
}

/// An allowlisted STS host and what it implies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StsHost {
    /// The host name, as it appears in the URL and Host header.
    pub host: String,
    /// The partition it serves.
    pub partition: Partition,
    /// The region a request to it must be signed for.
    pub region: String,
    /// The endpoint form.
    pub kind: EndpointKind,
}

/// Recognises an allowlisted STS host; `None` for anything else.
pub fn parse_sts_host(host: &str) -> Option<StsHost> {
    if host == GLOBAL_HOST {
        return Some(StsHost {
            host: host.to_owned(),
            partition: Partition::Aws,
            region: GLOBAL_REGION.to_owned(),
            kind: EndpointKind::Global,
        });
    }
    let (fips, rest) = if let Some(rest) = host.strip_prefix("sts-fips.") {
        (true, rest)
    } else {
        (false, host.strip_prefix("sts.")?)
    };
    let (region, suffix) = rest.split_once('.')?;
    let partition = Partition::of_region(region)?;
    let kind = if suffix == partition.dns_suffix() {
        if fips {
            EndpointKind::Fips
        } else {
            EndpointKind::Regional
        }
    } else if suffix == partition.dualstack_dns_suffix() {
        if fips {
            EndpointKind::FipsDualStack
        } else {
            EndpointKind::DualStack
        }
    } else {
        return None;
    };
    Some(StsHost {
        host: host.to_owned(),
        partition,
        region: region.to_owned(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_has_hosts() {
        for (host, partition, region) in [
            ("sts.amazonaws.com", Partition::Aws, "us-east-1"),
            ("sts.us-east-1.amazonaws.com", Partition::Aws, "us-east-1"),
            (
                "sts-fips.us-east-2.amazonaws.com",
                Partition::Aws,
                "us-east-2",
            ),
            ("sts.eu-west-1.api.aws", Partition::Aws, "eu-west-1"),
            (
                "sts.cn-north-1.amazonaws.com.cn",
                Partition::AwsCn,
                "cn-north-1",
            ),
            (
                "sts.cn-northwest-1.api.amazonwebservices.com.cn",
                Partition::AwsCn,
                "cn-northwest-1",
            ),
            (
                "sts.us-gov-west-1.amazonaws.com",
                Partition::AwsUsGov,
                "us-gov-west-1",
            ),
            (
                "sts-fips.us-gov-east-1.api.aws",
                Partition::AwsUsGov,
                "us-gov-east-1",
            ),
            (
                "sts.us-iso-east-1.c2s.ic.gov",
                Partition::AwsIso,
                "us-iso-east-1",
            ),
            (
                "sts.us-isob-east-1.sc2s.sgov.gov",
                Partition::AwsIsoB,
                "us-isob-east-1",
            ),
            (
                "sts.eu-isoe-west-1.cloud.adc-e.uk",
                Partition::AwsIsoE,
                "eu-isoe-west-1",
            ),
            (
                "sts.us-isof-south-1.csp.hci.ic.gov",
                Partition::AwsIsoF,
                "us-isof-south-1",
            ),
            (
                "sts.eusc-de-east-1.amazonaws.eu",
                Partition::AwsEusc,
                "eusc-de-east-1",
            ),
        ] {
            let h = parse_sts_host(host).unwrap_or_else(|| panic!("{host}"));
            assert_eq!(
                (h.partition, h.region.as_str()),
                (partition, region),
                "{host}"
            );
        }
    }

    #[test]
    fn lookalikes_are_refused() {
        for host in [
            "sts.amazonaws.com.evil.com",
            "sts.us-east-1.amazonaws.com.cn",
            "sts.cn-north-1.amazonaws.com",
            "sts.us-gov-west-1.c2s.ic.gov",
            "STS.AMAZONAWS.COM",
            "sts.amazonaws.com.",
            "iam.amazonaws.com",
            "sts..amazonaws.com",
            "evil.sts.us-east-1.amazonaws.com",
            "sts.us-east-1.evil.com",
            "sts.us-east-1.amazonaws.com:443",
            "sts-fips.amazonaws.com",
            "sts.us-east-1.api.aws.evil",
        ] {
            assert_eq!(parse_sts_host(host), None, "{host}");
        }
    }
}
