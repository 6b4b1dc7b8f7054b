//! Sealed Secrets (`bitnami.com/v1alpha1`): Secrets encrypted for one cluster's
//! controller, safe to commit; the controller decrypts them into Secrets.

use std::collections::BTreeMap;

use serde::Serialize;

use girder_core::StaticJson;
use girder_core::kubernetes::ProvidedObject;

use super::{Extra, Object, Spec, keys_at, text_at};

/// `SealedSecret`.
pub type SealedSecret = Object<SealedSecretSpec>;

/// The spec of a SealedSecret.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// Key -> value encrypted with `kubeseal` (ciphertext only, never a plain value).
    pub encrypted_data: BTreeMap<String, String>,
    /// The Secret to make (type, labels).
    pub template: Option<SecretTemplate>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for SealedSecretSpec {
    const API_VERSION: &'static str = "bitnami.com/v1alpha1";
    const KIND: &'static str = "SealedSecret";

    /// The Secret it unseals into (named by its template, else like the SealedSecret),
    /// holding the encrypted keys and the template's plain ones.
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let Some(name) =
            text_at(body, "/spec/template/metadata/name").or(text_at(body, "/metadata/name"))
        else {
            return Vec::new();
        };
        vec![ProvidedObject {
            kind: "Secret".into(),
            name: name.to_owned(),
            keys: Some(keys_at(
                body,
                &["/spec/encryptedData", "/spec/template/data"],
            )),
        }]
    }
}

/// `template`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecretTemplate {
    /// Secret type (`kubernetes.io/tls`, `Opaque`).
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Other fields (`metadata`).
    #[serde(flatten)]
    pub extra: Extra,
}
