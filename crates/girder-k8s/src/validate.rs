//! Name and value rules of the Kubernetes API, checked when a construct is added so the
//! error names the construct path.

use std::collections::BTreeMap;

use girder_core::Result;
use girder_core::kubernetes_rules;
use girder_core::vocabulary::dns;

use crate::error::K8sError;

/// A DNS-1123 label: 1-63 lowercase letters, digits and '-', alphanumeric at both ends.
pub(crate) fn dns_label(at: &str, what: &str, value: &str) -> Result<()> {
    if dns::is_dns_label(value) {
        Ok(())
    } else {
        Err(K8sError::NotDnsLabel {
            what: what.to_owned(),
            value: value.to_owned(),
        }
        .at(at))
    }
}

/// An IANA service name (a named port): 1-15 lowercase letters, digits and '-', at least
/// one letter, no leading, trailing or double '-'.
pub(crate) fn port_name(at: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 15
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && value.chars().any(|c| c.is_ascii_lowercase())
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(())
    } else {
        Err(K8sError::NotPortName(value.to_owned()).at(at))
    }
}

/// A DNS-1123 subdomain (names of most objects, ConfigMap and Secret references).
pub(crate) fn dns_subdomain(at: &str, what: &str, value: &str) -> Result<()> {
    if dns::is_dns_subdomain(value) {
        Ok(())
    } else {
        Err(K8sError::NotDnsSubdomain {
            what: what.to_owned(),
            value: value.to_owned(),
        }
        .at(at))
    }
}

/// Labels (keys and values) of `what` (`Deployment shop/api`), by the API server's rules
/// (`girder_core::kubernetes_rules`, the one place they are written).
pub(crate) fn labels(at: &str, what: &str, labels: &BTreeMap<String, String>) -> Result<()> {
    kubernetes_rules::label_map(labels).map_err(|why| metadata(at, what, why))
}

/// Annotations (keys, total size) of `what`.
pub(crate) fn annotations(
    at: &str,
    what: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<()> {
    kubernetes_rules::annotation_map(annotations).map_err(|why| metadata(at, what, why))
}

/// A broken label or annotation rule of `what`.
pub(crate) fn metadata(at: &str, what: &str, why: String) -> girder_core::Error {
    K8sError::Metadata {
        what: what.to_owned(),
        why,
    }
    .at(at)
}

/// An environment variable name: letters, digits, '_', '-' and '.', not starting with a
/// digit (the rule every Kubernetes version accepts).
pub(crate) fn env_name(at: &str, container: &str, name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(K8sError::EnvName {
            container: container.to_owned(),
            name: name.to_owned(),
        }
        .at(at))
    }
}

/// A key of a ConfigMap or Secret: 1-253 letters, digits, '-', '_' and '.'.
pub(crate) fn data_key(at: &str, what: &str, key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(K8sError::DataKey {
            what: what.to_owned(),
            key: key.to_owned(),
        }
        .at(at))
    }
}

/// An IPv4 or IPv6 CIDR block in its network form (`10.20.0.0/16`, `2001:db8::/32`).
pub(crate) fn cidr(at: &str, what: &str, value: &str) -> Result<()> {
    let fail = |why: &'static str| {
        Err(K8sError::NotCidr {
            what: what.to_owned(),
            value: value.to_owned(),
            why,
        }
        .at(at))
    };
    let Some((address, prefix)) = value.split_once('/') else {
        return fail("is not a CIDR block");
    };
    let Ok(address) = address.parse::<std::net::IpAddr>() else {
        return fail("is not a CIDR block");
    };
    let most = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix.parse::<u32>() {
        Ok(p) if p <= most && p.to_string() == prefix => p,
        _ => return fail("is not a CIDR block"),
    };
    let (value_bits, width): (u128, u32) = match address {
        std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    // The bits below the prefix, within the address width.
    let host_mask = u128::MAX
        .checked_shr(128 - (width - prefix))
        .filter(|_| width > prefix)
        .unwrap_or(0);
    let host_bits = value_bits & host_mask;
    if host_bits != 0 {
        return fail("has host bits set");
    }
    Ok(())
}

/// A Kubernetes quantity, parsed so requests and limits can be compared exactly:
/// `mantissa * 10^exponent`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quantity {
    mantissa: u128,
    exponent: i32,
}

impl Quantity {
    /// `<digits>[.<digits>]<suffix>`: suffixes `n u m k M G T P E`, `Ki Mi Gi Ti Pi Ei`,
    /// or a decimal exponent `e3` / `E-2`. Signs are refused (no request is negative).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let number_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let (exp10, binary): (i32, u32) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            _ => {
                let exponent = suffix.strip_prefix(['e', 'E'])?;
                let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                (exponent.parse::<i32>().ok()?, 0)
            }
        };
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        let mantissa = if digits.is_empty() {
            0
        } else {
            digits.parse::<u128>().ok()?
        };
        let mantissa = mantissa.checked_mul(1u128.checked_shl(binary)?)?;
        let exponent = exp10.checked_sub(i32::try_from(fraction.len()).ok()?)?;
        Some(Self { mantissa, exponent })
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        // Scale the one with the larger exponent down to the other's: a product that
        // overflows is larger than any u128.
        let scaled = |big: &Quantity, small: &Quantity| -> Option<u128> {
            let diff = u32::try_from(i64::from(big.exponent) - i64::from(small.exponent)).ok()?;
            10u128.checked_pow(diff)?.checked_mul(big.mantissa)
        };
        match (self.mantissa, other.mantissa) {
            (0, 0) => Ordering::Equal,
            (0, _) => Ordering::Less,
            (_, 0) => Ordering::Greater,
            _ if self.exponent >= other.exponent => match scaled(self, other) {
                Some(value) => value.cmp(&other.mantissa),
                None => Ordering::Greater,
            },
            _ => match scaled(other, self) {
                Some(value) => self.mantissa.cmp(&value),
                None => Ordering::Less,
            },
        }
    }
}

/// A Kubernetes quantity (`250m`, `1.5`, `512Mi`, `2Gi`, `1e3`).
pub(crate) fn quantity(at: &str, what: &str, value: &str) -> Result<Quantity> {
    Quantity::parse(value).ok_or_else(|| {
        K8sError::NotQuantity {
            what: what.to_owned(),
            value: value.to_owned(),
        }
        .at(at)
    })
}

/// Requests must not exceed limits (the API server refuses such a pod); extended
/// resources (`nvidia.com/gpu`) and huge pages cannot be overcommitted, so there a request
/// must equal its limit. `what` names the container or the LimitRange.
pub(crate) fn requests_within_limits(
    at: &str,
    what: &str,
    requests: &BTreeMap<String, String>,
    limits: &BTreeMap<String, String>,
) -> Result<()> {
    for (resource, request) in requests {
        let Some(limit) = limits.get(resource) else {
            continue;
        };
        let request_q = quantity(at, &format!("{what} request {resource}"), request)?;
        let limit_q = quantity(at, &format!("{what} limit {resource}"), limit)?;
        let no_overcommit = resource.starts_with("hugepages-")
            || (resource.contains('/') && !resource.contains("kubernetes.io/"));
        if request_q > limit_q {
            return Err(K8sError::RequestAboveLimit {
                what: what.to_owned(),
                resource: resource.clone(),
                request: request.clone(),
                limit: limit.clone(),
            }
            .at(at));
        }
        if no_overcommit && request_q != limit_q {
            return Err(K8sError::RequestNotLimit {
                what: what.to_owned(),
                resource: resource.clone(),
                request: request.clone(),
                limit: limit.clone(),
            }
            .at(at));
        }
    }
    Ok(())
}

/// A CronJob schedule as Kubernetes parses it (robfig/cron's standard parser): five
/// fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week
/// 0-6 or SUN-SAT), each a list of `*`, `?`, `N`, `N-M`, with an optional `/step`; or
/// `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`,
/// `@every <duration>`. A `TZ=` / `CRON_TZ=` prefix is refused, as the API server does:
/// the time zone belongs in `timeZone`.
pub(crate) fn cron_schedule(at: &str, what: &str, schedule: &str) -> Result<()> {
    check_cron(schedule).map_err(|why| {
        K8sError::NotCron {
            what: what.to_owned(),
            schedule: schedule.to_owned(),
            why,
        }
        .at(at)
    })
}

fn check_cron(schedule: &str) -> std::result::Result<(), String> {
    const DESCRIPTORS: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    if schedule.contains("TZ") {
        return Err(
            "a TZ= or CRON_TZ= prefix is refused by Kubernetes; set the time zone \
                    in the CronJob's timeZone instead"
                .into(),
        );
    }
    if schedule.trim().is_empty() {
        return Err("it is empty".into());
    }
    if schedule.starts_with('@') {
        if DESCRIPTORS.contains(&schedule) {
            return Ok(());
        }
        if let Some(duration) = schedule.strip_prefix("@every ") {
            return if is_go_duration(duration) {
                Ok(())
            } else {
                Err(format!("{duration:?} is not a duration (90s, 15m, 1h30m)"))
            };
        }
        return Err(format!("{schedule:?} is not a known descriptor"));
    }
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("it has {} fields, not 5", fields.len()));
    }
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("day of week", 0, 6, DAYS, 0),
    ];
    for (field, (name, min, max, names, first)) in fields.iter().zip(specs) {
        let value = |text: &str| -> std::result::Result<u32, String> {
            let lower = text.to_ascii_lowercase();
            if let Some(i) = names.iter().position(|n| *n == lower) {
                return u32::try_from(i)
                    .map(|i| i + first)
                    .map_err(|e| e.to_string());
            }
            if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("{name} {text:?} is not a number"));
            }
            text.parse::<u32>()
                .map_err(|_| format!("{name} {text:?} is out of range"))
        };
        for range in field.split(',') {
            let (span, step) = match range.split_once('/') {
                Some((span, step)) => (span, Some(step)),
                None => (range, None),
            };
            if let Some(step) = step {
                if step.contains('/') {
                    return Err(format!("{name} {range:?} has two '/'"));
                }
                if value(step)? == 0 {
                    return Err(format!("{name} {range:?}: a step is a positive number"));
                }
            }
            let (start, end) = if span == "*" || span == "?" {
                (min, max)
            } else {
                match span.split_once('-') {
                    Some((low, high)) => (value(low)?, value(high)?),
                    // `N/step` runs from N to the maximum.
                    None => {
                        let n = value(span)?;
                        (n, if step.is_some() { max } else { n })
                    }
                }
            };
            if start < min || end > max {
                return Err(format!("{name} {range:?} is outside {min}-{max}"));
            }
            if start > end {
                return Err(format!("{name} {range:?} starts after it ends"));
            }
        }
    }
    Ok(())
}

/// A Go duration (`time.ParseDuration`) above zero: number-unit pairs, units ns, us, µs,
/// ms, s, m, h.
fn is_go_duration(text: &str) -> bool {
    let mut rest = text;
    let mut positive = false;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        if number.chars().any(|c| c.is_ascii_digit() && c != '0') {
            positive = true;
        }
        let Some(unit) = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .iter()
            .find(|u| after.starts_with(**u))
        else {
            return false;
        };
        // "ms" is tried before "m", so "m" never takes the start of "ms".
        rest = &after[unit.len()..];
    }
    positive
}

/// A container image reference by the OCI distribution grammar, pinned: `latest` and
/// untagged images are refused (what runs must be what was reviewed).
///
/// `[domain[:port]/]path[:tag][@digest]`: domain components are letters, digits and '-'
/// (or a bracketed IPv6 address), path components `[a-z0-9]+` joined by `.`, `_`, `__` or
/// runs of `-`, the tag `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, the digest `sha256:` with 64
/// (`sha384:` 96, `sha512:` 128) lowercase hex digits; the name is at most 255 characters.
pub(crate) fn image(at: &str, container: &str, value: &str) -> Result<()> {
    check_image(value).map_err(|why| {
        K8sError::Image {
            container: container.to_owned(),
            image: value.to_owned(),
            why: why.to_string(),
        }
        .at(at)
    })
}

fn check_image(value: &str) -> std::result::Result<(), String> {
    if value.is_empty() {
        return Err("not an image reference".into());
    }
    if let Some(c) = value
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(format!(
            "not an image reference: it holds {c:?} (U+{:04X}); references are ASCII \
             without spaces",
            u32::from(c)
        ));
    }
    let (name_and_tag, digest) = match value.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (value, None),
    };
    if let Some(digest) = digest {
        let (algorithm, hex) = digest.split_once(':').unwrap_or((digest, ""));
        let length = match algorithm {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => 0,
        };
        if length == 0
            || hex.len() != length
            || !hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            return Err(
                "the digest is not sha256:<64 lowercase hex digits> (or sha384 / sha512)".into(),
            );
        }
    }
    // A tag follows the last ':' after the last '/' (a registry port is not a tag).
    let slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if slash.is_none_or(|s| colon > s) => {
            (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
        }
        _ => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return Err(format!(
                "tag {tag:?} is not 1-128 letters, digits, '_', '.' and '-' starting with a \
                 letter, digit or '_'"
            ));
        }
    }
    if name.len() > 255 {
        return Err(format!(
            "the name is {} characters; at most 255",
            name.len()
        ));
    }
    // The first component is a registry when it has a '.' or ':', is `localhost`, or has
    // capitals (as Docker and containerd read it).
    let (domain, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    };
    if let Some(domain) = domain {
        check_domain(domain)?;
    }
    for component in path.split('/') {
        if !is_path_component(component) {
            return Err(format!(
                "path component {component:?} is not lowercase letters and digits joined by \
                 '.', '_', '__' or '-'"
            ));
        }
    }
    match (tag, digest) {
        (Some("latest"), None) => Err("`latest` is not a version".into()),
        (None, None) => Err("it has no tag or digest".into()),
        _ => Ok(()),
    }
}

/// `host[:port]`: dot-separated labels of letters, digits and '-' (alphanumeric at both
/// ends), or `[IPv6]`; the port is digits.
fn check_domain(domain: &str) -> std::result::Result<(), String> {
    let bad = || Err(format!("registry {domain:?} is not host[:port]"));
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return bad();
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return bad();
        }
        match after {
            "" => ("", None),
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return bad(),
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    let host_ok = host.is_empty() && domain.starts_with('[')
        || host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    if host_ok && port_ok { Ok(()) } else { bad() }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let run = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && alnum(bytes[*i]) {
            *i += 1;
        }
        *i > start
    };
    if !run(&mut i) {
        return false;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if !run(&mut i) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_follow_the_reference_grammar_and_must_be_pinned() {
        let digest = format!("sha256:{}", "a".repeat(64));
        for good in [
            "nginx:1.27".to_owned(),
            "registry.example:5000/team/api:v1.2".to_owned(),
            format!("ghcr.io/acme/api@{digest}"),
            format!("ghcr.io/acme/api:1.0@{digest}"),
            format!("nginx:latest@{digest}"),
            "docker.io/library/postgres:17.2".to_owned(),
            "localhost/x:1".to_owned(),
            "localhost:5000/a/b_c/d__e/f-g/h---i.j:TAG_1.0-rc".to_owned(),
            "[::1]:5000/x:1".to_owned(),
            "Registry.Example/x:1".to_owned(),
            "x:_private".to_owned(),
            format!("x@sha512:{}", "0".repeat(128)),
            format!("x:{}", "t".repeat(128)),
        ] {
            image("x", "c", &good).unwrap();
        }
        for (bad, why) in [
            ("nginx", "no tag or digest"),
            ("nginx:latest", "`latest` is not a version"),
            ("registry.example:5000/api", "no tag or digest"),
            ("api@sha256:abc", "the digest is not"),
            ("", "not an image reference"),
            ("nginx:latest\u{200B}", "U+200B"),
            ("nginx:1.0 ", "U+0020"),
            ("nginx:${TAG}", "tag \"${TAG}\""),
            ("nginx:1.0:2", "path component \"nginx:1.0\""),
            ("ghcr.io//x:1", "path component \"\""),
            ("ghcr.io/x/:1", "path component \"\""),
            ("Nginx:1", "path component \"Nginx\""),
            ("ghcr.io/Acme/api:1", "path component \"Acme\""),
            ("ghcr.io/-x:1", "path component \"-x\""),
            ("ghcr.io/x-:1", "path component \"x-\""),
            ("ghcr.io/x.-y:1", "path component \"x.-y\""),
            ("ghcr.io/x___y:1", "path component \"x___y\""),
            ("nginx:", "tag \"\""),
            ("nginx:.1", "tag \".1\""),
            ("-bad.io/x:1", "registry \"-bad.io\""),
            ("bad.io:99999/x:1", "registry \"bad.io:99999\""),
            ("bad.io:/x:1", "registry \"bad.io:\""),
            ("x@sha256:ABCDEF", "the digest is not"),
            (
                "x@md5:0123456789abcdef0123456789abcdef",
                "the digest is not",
            ),
        ] {
            let err = image("x", "c", bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let long_tag = format!("x:{}", "t".repeat(129));
        assert!(image("x", "c", &long_tag).is_err());
        let long_name = format!("{}:1", "a".repeat(256));
        assert!(image("x", "c", &long_name).is_err());
    }

    #[test]
    fn quantities() {
        for good in [
            "250m", "1", "0.5", "512Mi", "2Gi", "1e3", "100k", ".5", "1.", "1E-2", "100n", "7u",
        ] {
            quantity("x", "cpu", good).unwrap();
        }
        for bad in [
            "", "Mi", "1.2.3", "12 Mi", "1mb", "-1", ".", "1e", "e3", "1Ki2",
        ] {
            assert!(quantity("x", "cpu", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities_compare_exactly() {
        let q = |text: &str| Quantity::parse(text).unwrap();
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("0"), q("0m"));
        assert!(q("1001m") > q("1"));
        assert!(q("999m") < q("1"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("1E") < q("1Ei"));
        assert!(q("1e30") > q("1Ei"));
        assert!(q("1n") < q("1u"));
        assert!(q("0.1") < q("101m"));
    }

    #[test]
    fn requests_may_not_exceed_limits() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        requests_within_limits(
            "x",
            "container \"api\"",
            &map(&[
                ("cpu", "500m"),
                ("memory", "256Mi"),
                ("nvidia.com/gpu", "1"),
            ]),
            &map(&[("cpu", "1"), ("memory", "256Mi"), ("nvidia.com/gpu", "1")]),
        )
        .unwrap();
        let err = requests_within_limits(
            "x",
            "container \"api\"",
            &map(&[("cpu", "2")]),
            &map(&[("cpu", "1500m")]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "x: container \"api\": cpu request 2 is above its limit 1500m; a request must be at most the limit"
        );
        let err = requests_within_limits(
            "x",
            "c",
            &map(&[("nvidia.com/gpu", "1")]),
            &map(&[("nvidia.com/gpu", "2")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("need request = limit"), "{err}");
    }

    #[test]
    fn cron_schedules() {
        for good in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1 1 *",
            "0 9-17/2 * * MON-FRI",
            "5,35 0-23/4 1-31 JAN,jul sun",
            "30 2 ? * 0-6",
            "0 12 15 * 6",
            "5/10 * * * *",
            "@hourly",
            "@daily",
            "@midnight",
            "@weekly",
            "@monthly",
            "@yearly",
            "@annually",
            "@every 1h30m",
            "@every 90s",
            "  0 3 * * *  ",
        ] {
            cron_schedule("x", "CronJob c", good).unwrap();
        }
        for (bad, why) in [
            ("daily", "it has 1 fields, not 5"),
            ("", "it is empty"),
            ("0 3 * *", "it has 4 fields, not 5"),
            ("0 0 3 * * *", "it has 6 fields, not 5"),
            ("60 * * * *", "minute \"60\" is outside 0-59"),
            ("0 24 * * *", "hour \"24\" is outside 0-23"),
            ("0 0 0 * *", "day of month \"0\" is outside 1-31"),
            ("0 0 32 * *", "day of month \"32\" is outside 1-31"),
            ("0 0 * 13 *", "month \"13\" is outside 1-12"),
            ("0 0 * * 7", "day of week \"7\" is outside 0-6"),
            ("0 0 * * MON-FRY", "day of week \"FRY\" is not a number"),
            ("*/0 * * * *", "a step is a positive number"),
            ("5-1 * * * *", "starts after it ends"),
            ("1-2-3 * * * *", "\"2-3\" is not a number"),
            ("*/5/2 * * * *", "has two '/'"),
            ("a * * * *", "minute \"a\" is not a number"),
            ("-1 * * * *", "\"\" is not a number"),
            ("1, * * * *", "\"\" is not a number"),
            (
                "CRON_TZ=UTC 0 3 * * *",
                "set the time zone in the CronJob's timeZone",
            ),
            ("TZ=Europe/Berlin 0 3 * * *", "TZ= or CRON_TZ="),
            ("@fortnightly", "not a known descriptor"),
            ("@every", "not a known descriptor"),
            ("@every 1x", "\"1x\" is not a duration"),
            ("@every 0s", "is not a duration"),
            ("@daily ", "not a known descriptor"),
        ] {
            let err = cron_schedule("x", "CronJob c", bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!(
                    "x: CronJob c: schedule {bad:?} is not cron syntax: "
                )),
                "{err}"
            );
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn cidrs() {
        for good in [
            "10.20.0.0/16",
            "0.0.0.0/0",
            "10.0.0.1/32",
            "2001:db8::/32",
            "::/0",
        ] {
            cidr("x", "ipBlock", good).unwrap();
        }
        for bad in [
            "10.20.0.1/16",
            "10.20.0.0",
            "10.20.0.0/33",
            "x/8",
            "2001:db8::1/32",
            "10.0.0.0/016",
        ] {
            assert!(cidr("x", "ipBlock", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        dns_label("x", "name", "api-v2").unwrap();
        assert!(dns_label("x", "name", "Api").is_err());
        assert!(dns_label("x", "name", "-api").is_err());
        port_name("x", "http").unwrap();
        assert!(port_name("x", "8080").is_err());
        assert!(port_name("x", "a-very-long-port-name").is_err());
        env_name("x", "c", "DATABASE_URL").unwrap();
        env_name("x", "c", "my.var-1").unwrap();
        for bad in ["", "1ABC", "A=B", "A B", "Ä"] {
            assert!(env_name("x", "c", bad).is_err(), "{bad}");
        }
        data_key("x", "ConfigMap", "app.yaml").unwrap();
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(data_key("x", "ConfigMap", bad).is_err(), "{bad}");
        }
    }
}
