//! AWS partitions: the eight that STS can report in a caller ARN, and the DNS
//! suffix each one's endpoints live under.

use std::fmt;
use std::str::FromStr;

/// An AWS partition, the second section of every ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    /// `aws`: the commercial regions.
    Aws,
    /// `aws-cn`: the China regions.
    AwsCn,
    /// `aws-us-gov`: AWS GovCloud (US).
    AwsUsGov,
    /// `aws-iso`: the US ISO East/West regions.
    AwsIso,
    /// `aws-iso-b`: the US ISOB region.
    AwsIsoB,
    /// `aws-iso-e`: the EU ISOE region.
    AwsIsoE,
    /// `aws-iso-f`: the US ISOF regions.
    AwsIsoF,
    /// `aws-eusc`: the AWS European Sovereign Cloud.
    AwsEusc,
}

/// Every partition's name, `, `-separated, for messages.
pub struct PartitionNames;

impl fmt::Display for PartitionNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, partition) in Partition::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(partition.as_str())?;
        }
        Ok(())
    }
}

impl Partition {
    /// Every partition, in a stable order.
    pub const ALL: [Partition; 8] = [
        Partition::Aws,
        Partition::AwsCn,
        Partition::AwsUsGov,
        Partition::AwsIso,
        Partition::AwsIsoB,
        Partition::AwsIsoE,
        Partition::AwsIsoF,
        Partition::AwsEusc,
    ];

    /// The partition's name as it appears in an ARN.
    pub const fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsIso => "aws-iso",
            Partition::AwsIsoB => "aws-iso-b",
            Partition::AwsIsoE => "aws-iso-e",
            Partition::AwsIsoF => "aws-iso-f",
            Partition::AwsEusc => "aws-eusc",
        }
    }

    /// The DNS suffix of the partition's service endpoints (`sts.REGION.SUFFIX`).
    pub const fn dns_suffix(self) -> &'static str {
        match self {
            Partition::Aws => "amazonaws.com",
            Partition::AwsCn => "amazonaws.com.cn",
            Partition::AwsUsGov => "amazonaws.com",
            Partition::AwsIso => "c2s.ic.gov",
            Partition::AwsIsoB => "sc2s.sgov.gov",
            Partition::AwsIsoE => "cloud.adc-e.uk",
            Partition::AwsIsoF => "csp.hci.ic.gov",
            Partition::AwsEusc => "amazonaws.eu",
        }
    }

    /// A small dense index (0..8), handy for tables.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The DNS suffix of the partition's dual-stack (IPv4 + IPv6) endpoints
    /// (`sts.REGION.SUFFIX`), as the AWS SDKs' partition table lists it.
    pub const fn dualstack_dns_suffix(self) -> &'static str {
        match self {
            Partition::Aws | Partition::AwsUsGov => "api.aws",
            Partition::AwsCn => "api.amazonwebservices.com.cn",
            Partition::AwsIso => "api.aws.ic.gov",
            Partition::AwsIsoB => "api.aws.scloud",
            Partition::AwsIsoE => "api.cloud-aws.adc-e.uk",
            Partition::AwsIsoF => "api.aws.hci.ic.gov",
            Partition::AwsEusc => "api.amazonwebservices.eu",
        }
    }

    /// The leading `-`-separated words of the partition's region names: a
    /// region is `PREFIX-WORD-DIGITS` (the SDKs' `regionRegex`, e.g.
    /// `^us\-gov\-\w+\-\d+$`). The prefixes of different partitions never
    /// make the same region, so a region names exactly one partition.
    pub const fn region_prefixes(self) -> &'static [&'static str] {
        match self {
            Partition::Aws => &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
            Partition::AwsCn => &["cn"],
            Partition::AwsUsGov => &["us-gov"],
            Partition::AwsIso => &["us-iso"],
            Partition::AwsIsoB => &["us-isob"],
            Partition::AwsIsoE => &["eu-isoe"],
            Partition::AwsIsoF => &["us-isof"],
            Partition::AwsEusc => &["eusc-de"],
        }
    }

    /// Whether `region` is a well-formed region name of this partition
    /// (`PREFIX-WORD-DIGITS`, lower-case ASCII; it need not exist yet).
    pub fn has_region(self, region: &str) -> bool {
        self.region_prefixes().iter().any(|prefix| {
            let Some(rest) = region
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('-'))
            else {
                return false;
            };
            let Some((word, digits)) = rest.split_once('-') else {
                return false;
            };
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && !digits.is_empty()
                && digits.len() <= 3
                && digits.bytes().all(|b| b.is_ascii_digit())
        })
    }

    /// The partition a region name belongs to, if any.
    pub fn of_region(region: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.has_region(region))
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the eight partition names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown partition `{0}`: expected one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc"
)]
pub struct UnknownPartition(pub String);

impl FromStr for Partition {
    type Err = UnknownPartition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Partition::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPartition(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Partition::ALL {
            assert_eq!(p.as_str().parse::<Partition>(), Ok(p));
        }
        assert!("aws-xx".parse::<Partition>().is_err());
        assert!("AWS".parse::<Partition>().is_err());
    }

    #[test]
    fn regions_name_one_partition() {
        let cases = [
            ("us-east-1", Some(Partition::Aws)),
            ("eu-west-3", Some(Partition::Aws)),
            ("cn-north-1", Some(Partition::AwsCn)),
            ("us-gov-west-1", Some(Partition::AwsUsGov)),
            ("us-iso-east-1", Some(Partition::AwsIso)),
            ("us-isob-east-1", Some(Partition::AwsIsoB)),
            ("eu-isoe-west-1", Some(Partition::AwsIsoE)),
            ("us-isof-south-1", Some(Partition::AwsIsoF)),
            ("eusc-de-east-1", Some(Partition::AwsEusc)),
            ("us-east", None),
            ("US-EAST-1", None),
            ("us--1", None),
            ("xx-east-1", None),
            ("us-east-1a", None),
            ("us-east-1-2", None),
        ];
        for (region, want) in cases {
            assert_eq!(Partition::of_region(region), want, "{region}");
        }
    }
}
