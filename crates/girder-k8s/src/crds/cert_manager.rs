//! cert-manager (`cert-manager.io/v1`): certificates and their issuers.

use serde::Serialize;

use girder_core::StaticJson;
use girder_core::kubernetes::{KubeScope, ProvidedObject};

use super::{Extra, NameRef, Object, Spec, text_at};

/// `Certificate`.
pub type Certificate = Object<CertificateSpec>;
/// `Issuer`.
pub type Issuer = Object<IssuerSpec>;
/// `ClusterIssuer`.
pub type ClusterIssuer = Object<ClusterIssuerSpec>;

/// The spec of a Certificate.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    /// The Secret the key pair is written to.
    pub secret_name: String,
    /// DNS names.
    pub dns_names: Vec<String>,
    /// Who signs it.
    pub issuer_ref: IssuerRef,
    /// Lifetime (`2160h`).
    pub duration: Option<String>,
    /// Renew this long before expiry (`360h`).
    pub renew_before: Option<String>,
    /// Other fields (`privateKey`, `usages`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for CertificateSpec {
    const API_VERSION: &'static str = "cert-manager.io/v1";
    const KIND: &'static str = "Certificate";

    /// The Secret the key pair is written to (`spec.secretName`; keys set by cert-manager).
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        text_at(body, "/spec/secretName")
            .map(|name| ProvidedObject {
                kind: "Secret".into(),
                name: name.to_owned(),
                keys: None,
            })
            .into_iter()
            .collect()
    }
}

/// `issuerRef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IssuerRef {
    /// Issuer name.
    pub name: String,
    /// `Issuer` or `ClusterIssuer`.
    pub kind: String,
    /// `cert-manager.io`.
    pub group: String,
}

impl IssuerRef {
    /// A ClusterIssuer.
    pub fn cluster(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: "ClusterIssuer".into(),
            group: "cert-manager.io".into(),
        }
    }
}

/// The spec of an Issuer.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerSpec {
    /// ACME (Let's Encrypt).
    pub acme: Option<Acme>,
    /// Self-signed.
    pub self_signed: Option<Extra>,
    /// A CA whose key pair is in a Secret.
    pub ca: Option<CaIssuer>,
    /// Other issuer types.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The spec of a ClusterIssuer (the same as an Issuer's).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterIssuerSpec(pub IssuerSpec);

impl Spec for IssuerSpec {
    const API_VERSION: &'static str = "cert-manager.io/v1";
    const KIND: &'static str = "Issuer";
}

impl Spec for ClusterIssuerSpec {
    const API_VERSION: &'static str = "cert-manager.io/v1";
    const KIND: &'static str = "ClusterIssuer";
    const SCOPE: KubeScope = KubeScope::Cluster;
}

/// `acme`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Acme {
    /// Account e-mail.
    pub email: String,
    /// Directory URL.
    pub server: String,
    /// Secret holding the account key.
    pub private_key_secret_ref: NameRef,
    /// Challenge solvers (`{"http01": {"ingress": {"ingressClassName": "nginx"}}}`).
    pub solvers: Vec<serde_json::Value>,
}

impl Acme {
    /// Let's Encrypt production with an HTTP-01 solver on ingress class `class`.
    pub fn lets_encrypt_http01(
        email: impl Into<String>,
        account_secret: impl Into<String>,
        class: &str,
    ) -> Self {
        Self {
            email: email.into(),
            server: "https://acme-v02.api.letsencrypt.org/directory".into(),
            private_key_secret_ref: NameRef::new(account_secret),
            solvers: vec![serde_json::json!({"http01": {"ingress": {"ingressClassName": class}}})],
        }
    }
}

/// `ca`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    /// Secret with `tls.crt` and `tls.key`.
    pub secret_name: String,
}
