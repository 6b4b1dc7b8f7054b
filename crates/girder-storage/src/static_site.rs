//! A static website: a private bucket served by CloudFront through an origin access
//! control, and the role a website's CI deploys with.

use girder_aws::aws;
use girder_aws::aws::cloudfront_distribution as cf;
use girder_aws::aws::cloudfront_response_headers_policy as headers;
use girder_core::construct::Construct;
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::{Condition, PolicyDocument, Role, RoleHandle, Statement, Trust};

use crate::bucket::{Bucket, BucketHandle};
use crate::error::StorageError;
use crate::name::BucketName;

/// CloudFront's managed cache policy `Managed-CachingOptimized`: long TTLs, no cookies,
/// headers or query strings in the cache key, gzip and brotli.
pub const CACHING_OPTIMIZED_POLICY_ID: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// HSTS `max-age` of the site's responses: two years, what hstspreload.org asks for.
pub const HSTS_MAX_AGE_SECONDS: u32 = 63_072_000;

/// The edge locations a distribution serves from (CloudFront's price classes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PriceClass {
    /// North America, Europe and Israel (`PriceClass_100`): the cheapest.
    #[default]
    NorthAmericaEurope,
    /// Those and Asia, the Middle East and Africa (`PriceClass_200`).
    WithAsiaAfrica,
    /// Every edge location (`PriceClass_All`).
    All,
}

impl PriceClass {
    fn as_str(self) -> &'static str {
        match self {
            Self::NorthAmericaEurope => "PriceClass_100",
            Self::WithAsiaAfrica => "PriceClass_200",
            Self::All => "PriceClass_All",
        }
    }
}

/// A static website to create.
///
/// - The bucket is a girder [`Bucket`] (public access blocked, owner enforced, SSE-S3,
///   versioned so a bad deploy can be rolled back, TLS only); its policy lets
///   `cloudfront.amazonaws.com` `s3:GetObject` only on behalf of this distribution
///   (`aws:SourceArn`), and nobody else in.
/// - CloudFront reads it through an origin access control that signs every request
///   (SigV4, `always`); viewers are redirected to HTTPS; HTTP/2 and HTTP/3, IPv6,
///   compression, `index.html` at the root, the managed `CachingOptimized` cache policy,
///   price class 100 unless told.
/// - Every response carries security headers (a response headers policy of its own,
///   overriding the origin's): `Strict-Transport-Security` for two years with
///   `includeSubDomains` and `preload` (the directive only consents: a domain enters the
///   browsers' preload lists when someone submits it at hstspreload.org),
///   `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
///   `Referrer-Policy: strict-origin-when-cross-origin` and `X-XSS-Protection: 0` (the
///   browsers' XSS auditor is gone; OWASP advises turning it off).
/// - TLS: with [`StaticSite::certificate`] (an ACM certificate in us-east-1) SNI and
///   TLS 1.2 at least (`TLSv1.2_2021`) for the aliases; without it, CloudFront's default
///   certificate on `*.cloudfront.net`, for which CloudFront fixes the minimum at TLSv1
///   (scanners report CKV_AWS_174 / CKV2_AWS_42 then: give a certificate to clear them).
///
/// What checkov 3.3.30 still reports on a site, and why girder does not decide it for
/// the stack (acknowledge with the stack's reason, `Stack::acknowledge_check`):
/// CKV_AWS_68 / CKV2_AWS_47 (no WAF web ACL unless [`StaticSite::web_acl`]: a static
/// site has no code to exploit, and WAF costs per ACL and rule), CKV_AWS_86 (no access
/// logs unless [`StaticSite::access_logs`]), CKV_AWS_310 (no origin failover: one
/// bucket, one region), CKV_AWS_374 (no geo restriction: a public website), and on the
/// bucket CKV_AWS_145 (SSE-S3: SSE-KMS would need CloudFront in the key's policy and a
/// KMS request per uncached object), CKV_AWS_18 (no server access logs), CKV_AWS_144
/// (no cross-region replication: the CI rebuilds the content) and CKV2_AWS_62 (no event
/// notifications: nothing consumes them).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct StaticSite {
    bucket: BucketName,
    certificate: Option<Value<String>>,
    aliases: Vec<String>,
    price_class: PriceClass,
    access_logs: Option<(Value<String>, String)>,
    web_acl: Option<Value<String>>,
    deployer: Option<(String, Trust)>,
}

/// A site in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct StaticSiteHandle {
    bucket: BucketHandle,
    distribution: aws::CloudfrontDistributionHandle,
    deployer: Option<RoleHandle>,
    deployer_policy: PolicyDocument,
}

impl StaticSite {
    /// The site whose files live in bucket `bucket`.
    pub fn new(bucket: BucketName) -> Self {
        Self {
            bucket,
            certificate: None,
            aliases: Vec::new(),
            price_class: PriceClass::default(),
            access_logs: None,
            web_acl: None,
            deployer: None,
        }
    }

    /// Serve HTTPS with the ACM certificate `arn` (issued in us-east-1, as CloudFront
    /// requires), SNI only, TLS 1.2 or later (`TLSv1.2_2021`).
    pub fn certificate(mut self, arn: impl Into<Value<String>>) -> Self {
        self.certificate = Some(arn.into());
        self
    }

    /// Answer for the domain `alias` (`www.example.org`) too; the certificate must cover
    /// it.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Serve from these edge locations.
    pub fn price_class(mut self, price_class: PriceClass) -> Self {
        self.price_class = price_class;
        self
    }

    /// Write CloudFront's standard access logs under `prefix` of the bucket whose domain
    /// name is `bucket_domain_name` (`<bucket>.s3.amazonaws.com`). CloudFront's standard
    /// logging writes with object ACLs, so that bucket must allow them (object ownership
    /// `BucketOwnerPreferred`), which a girder [`Bucket`] does not.
    pub fn access_logs(
        mut self,
        bucket_domain_name: impl Into<Value<String>>,
        prefix: impl Into<String>,
    ) -> Self {
        self.access_logs = Some((bucket_domain_name.into(), prefix.into()));
        self
    }

    /// Filter requests with the WAF web ACL `arn` (a global, us-east-1, web ACL).
    pub fn web_acl(mut self, arn: impl Into<Value<String>>) -> Self {
        self.web_acl = Some(arn.into());
        self
    }

    /// Make the role `name` that `trust` may assume (GitHub Actions of the website's
    /// repository and branch) and that may only sync the bucket (`s3:ListBucket` on it,
    /// `s3:PutObject` and `s3:DeleteObject` on its objects) and invalidate this
    /// distribution's cache (`cloudfront:CreateInvalidation` on it, and
    /// `cloudfront:GetInvalidation` to wait for one to complete).
    pub fn deployer(mut self, name: impl Into<String>, trust: Trust) -> Self {
        self.deployer = Some((name.into(), trust));
        self
    }
}

impl Construct for StaticSite {
    type Handle = StaticSiteHandle;

    /// Add the bucket (`<id>/bucket`), origin access control, distribution (`<id>`),
    /// the bucket policy and the deployer as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<StaticSiteHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        if !self.aliases.is_empty() && self.certificate.is_none() {
            return Err(Error::construct(
                &at,
                StorageError::AliasesWithoutCertificate(self.aliases),
            ));
        }
        let bucket = Bucket::new(self.bucket).add_parts(&mut scope.construct_child("bucket")?)?;
        let access = scope.add(
            "origin-access",
            aws::CloudfrontOriginAccessControl::new(bucket.name().clone(), "s3", "always", "sigv4")
                .description("CloudFront signs every request to the site's bucket"),
        )?;
        let policy_name: String = format!("{}-{}", scope.stack_id(), scope.path())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let security = headers::SecurityHeadersConfig::new()
            .strict_transport_security(
                headers::SecurityHeadersConfigStrictTransportSecurity::new(
                    HSTS_MAX_AGE_SECONDS,
                    true,
                )
                .include_subdomains(true)
                .preload(true),
            )
            .content_type_options(headers::SecurityHeadersConfigContentTypeOptions::new(true))
            .frame_options(headers::SecurityHeadersConfigFrameOptions::new(
                "DENY", true,
            ))
            .referrer_policy(headers::SecurityHeadersConfigReferrerPolicy::new(
                true,
                "strict-origin-when-cross-origin",
            ))
            .xss_protection(headers::SecurityHeadersConfigXssProtection::new(
                true, false,
            ));
        let response_headers = scope.add(
            "response-headers",
            aws::CloudfrontResponseHeadersPolicy::new(policy_name)
                .comment("security headers of the static site")
                .security_headers_config(security),
        )?;
        const ORIGIN: &str = "bucket";
        let behavior = cf::DefaultCacheBehavior::new(
            ["GET", "HEAD"],
            ["GET", "HEAD"],
            ORIGIN,
            "redirect-to-https",
        )
        .cache_policy_id(CACHING_OPTIMIZED_POLICY_ID)
        .response_headers_policy_id(response_headers.id())
        .compress(true);
        let origin = cf::Origin::new(bucket.resource().bucket_regional_domain_name(), ORIGIN)
            .origin_access_control_id(access.id());
        let viewer = match &self.certificate {
            Some(arn) => cf::ViewerCertificate::new()
                .acm_certificate_arn(arn.clone())
                .ssl_support_method("sni-only")
                .minimum_protocol_version("TLSv1.2_2021"),
            None => cf::ViewerCertificate::new().cloudfront_default_certificate(true),
        };
        let mut distribution = aws::CloudfrontDistribution::new(
            true,
            behavior,
            [origin],
            cf::Restrictions::new(cf::RestrictionsGeoRestriction::new("none")),
            viewer,
        )
        .comment(format!("static site {}", scope.path()))
        .default_root_object("index.html")
        .http_version("http2and3")
        .is_ipv6_enabled(true)
        .price_class(self.price_class.as_str());
        if !self.aliases.is_empty() {
            distribution = distribution.aliases(self.aliases.clone());
        }
        if let Some((bucket_domain_name, prefix)) = self.access_logs {
            distribution = distribution.logging_config(
                cf::LoggingConfig::new()
                    .bucket(bucket_domain_name)
                    .prefix(prefix)
                    .include_cookies(false),
            );
        }
        if let Some(arn) = self.web_acl {
            distribution = distribution.web_acl_id(arn);
        }
        let distribution = scope.add_default(distribution)?;
        let read = Statement::allow(["s3:GetObject"])
            .sid("CloudFrontReadsThroughItsOriginAccess")
            .principal("Service", ["cloudfront.amazonaws.com"])
            .on([bucket.arn().join("/*")])
            .when(Condition::string_equals(
                "aws:SourceArn",
                distribution.arn(),
            ));
        let bucket = bucket.finish(&mut scope.child("bucket")?, vec![read])?;
        let mut deployer_policy =
            PolicyDocument::new().statement(bucket.list_statement("").sid("ListTheSite"));
        for statement in bucket.write_statements("") {
            deployer_policy = deployer_policy.statement(statement.sid("SyncTheSite"));
        }
        deployer_policy = deployer_policy.statement(
            // GetInvalidation: `aws cloudfront wait invalidation-completed` polls it.
            Statement::allow([
                "cloudfront:CreateInvalidation",
                "cloudfront:GetInvalidation",
            ])
            .sid("InvalidateTheSite")
            .on([distribution.arn()]),
        );
        let deployer = match self.deployer {
            Some((name, trust)) => Some(
                Role::new(name, trust)
                    .description(format!("deploys the static site {}", scope.path()))
                    .policy("deploy", deployer_policy.clone())
                    .add(&mut scope, "deployer")?,
            ),
            None => None,
        };
        Ok(StaticSiteHandle {
            bucket,
            distribution,
            deployer,
            deployer_policy,
        })
    }
}

impl StaticSiteHandle {
    /// The site's bucket.
    pub fn bucket(&self) -> &BucketHandle {
        &self.bucket
    }

    /// The distribution's id (what `aws cloudfront create-invalidation --distribution-id`
    /// takes).
    pub fn distribution_id(&self) -> Expr<String> {
        self.distribution.id()
    }

    /// The distribution's ARN.
    pub fn distribution_arn(&self) -> Expr<String> {
        self.distribution.arn()
    }

    /// The distribution's domain name (`d111111abcdef8.cloudfront.net`), what a DNS
    /// alias record points at.
    pub fn domain_name(&self) -> Expr<String> {
        self.distribution.domain_name()
    }

    /// CloudFront's hosted zone id, for a Route53 alias record.
    pub fn hosted_zone_id(&self) -> Expr<String> {
        self.distribution.hosted_zone_id()
    }

    /// The deployer role, when one was asked for.
    pub fn deployer(&self) -> Option<&RoleHandle> {
        self.deployer.as_ref()
    }

    /// What deploying the site takes (the deployer role's policy): sync the bucket,
    /// invalidate the distribution, nothing else. A role made elsewhere can be given it.
    pub fn deployer_policy(&self) -> &PolicyDocument {
        &self.deployer_policy
    }

    /// The generated distribution.
    pub fn distribution(&self) -> &aws::CloudfrontDistributionHandle {
        &self.distribution
    }
}
