//! What girder-odc refuses, as values tests can match.

/// Why a product definition was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OdcError {
    /// A product or measurement name the index refuses.
    #[error("{what} name {name:?}: a letter, then letters, digits and '_' (at most 64)")]
    Name {
        /// `product` or `measurement`.
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// An alias that is not one identifier (`scene_average_water_vapour WVP`, a comma
    /// forgotten in a YAML list, is one alias with a space).
    #[error(
        "measurement {measurement:?}: alias {alias:?} is not one identifier (letters, digits, '_')"
    )]
    Alias {
        /// The measurement.
        measurement: String,
        /// The alias given.
        alias: String,
    },
    /// A product without measurements.
    #[error("product {0:?} has no measurements")]
    NoMeasurements(String),
    /// A name or alias that two measurements answer to (loads would be ambiguous).
    #[error("product {product:?}: {name:?} names both measurement {first:?} and {second:?}")]
    Ambiguous {
        /// The product.
        product: String,
        /// The name or alias.
        name: String,
        /// The first measurement it names.
        first: String,
        /// The second.
        second: String,
    },
    /// A nodata value the measurement's dtype cannot hold.
    #[error("measurement {measurement:?}: nodata {nodata} does not fit dtype {dtype} ({allowed})")]
    Nodata {
        /// The measurement.
        measurement: String,
        /// Its dtype.
        dtype: &'static str,
        /// The nodata given.
        nodata: String,
        /// What the dtype holds.
        allowed: String,
    },
    /// Empty units (ODC reads `"1"` for unitless reflectance).
    #[error("measurement {0:?} has no units: give \"1\" for a unitless quantity")]
    Units(String),
    /// A flag bit outside the measurement's integer width, or flags on a float.
    #[error("measurement {measurement:?}: flag {flag:?} uses bit {bit}, outside a {dtype}")]
    FlagBit {
        /// The measurement.
        measurement: String,
        /// The flag.
        flag: String,
        /// The bit.
        bit: u8,
        /// The dtype.
        dtype: &'static str,
    },
    /// A flag value that sets a bit the flag does not read.
    #[error(
        "measurement {measurement:?}: flag {flag:?} value {value} sets a bit outside its bits {bits:?} (a value is read as those bits, shifted down by the lowest)"
    )]
    FlagValue {
        /// The measurement.
        measurement: String,
        /// The flag.
        flag: String,
        /// The value.
        value: u64,
        /// The bits the flag reads.
        bits: Vec<u8>,
    },
    /// A required text (description, license) left empty.
    #[error("product {product:?} has no {what}")]
    Missing {
        /// The product.
        product: String,
        /// `description` or `license`.
        what: &'static str,
    },
    /// A datacube-ows layer or configuration that would not serve.
    #[error("OWS layer {layer:?}: {reason}")]
    Ows {
        /// The layer (empty for the configuration as a whole).
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// A chart image not pinned by digest, or not a `registry/repository:tag@sha256:...`
    /// reference.
    #[error(
        "release {release}: image {reference:?} is not registry/repository:tag@sha256:<digest>"
    )]
    Image {
        /// The release.
        release: String,
        /// The reference given.
        reference: String,
    },
    /// Replica bounds an autoscaler cannot keep (none, or a floor above the ceiling).
    #[error("release {release}: replicas {min} to {max}: at least 1, and min <= max")]
    Replicas {
        /// The release.
        release: String,
        /// The floor.
        min: u16,
        /// The ceiling.
        max: u16,
    },
    /// Requests and limits missing, unreadable, or a request above its limit.
    #[error("release {release}: {resource} {problem}")]
    Resources {
        /// The release.
        release: String,
        /// `cpu` or `memory`.
        resource: &'static str,
        /// What is wrong.
        problem: ResourceProblem,
    },
    /// No Secret named for the database credentials.
    #[error(
        "release {release}: no database Secret named (keys postgres-username, postgres-password)"
    )]
    DatabaseSecret {
        /// The release.
        release: String,
    },
    /// A product document that does not read as one (a measurement without `dtype`, an
    /// unknown dtype, a field of the wrong type).
    #[error("the product document does not read: {0}")]
    Document(String),
}

/// What is wrong with a release's requests and limits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceProblem {
    /// No request, or no limit.
    #[error("needs both a request and a limit")]
    Missing,
    /// A quantity that is not one (`1.5`, `500m`, `2Gi`, `512Mi` read).
    #[error("quantity {0:?} does not read")]
    Unreadable(String),
    /// The request above the limit.
    #[error("request {request} is above limit {limit}")]
    RequestAboveLimit {
        /// The request.
        request: String,
        /// The limit.
        limit: String,
    },
}
