//! Typed Open Data Cube product definitions (metadata type `eo3`): what
//! `datacube product add` reads, checked before synth instead of by the index at load
//! time.
//!
//! - Every measurement has a [`Dtype`] and a [`Nodata`] the dtype holds (an integer
//!   dtype never gets a fractional or out-of-range nodata; `NaN` only for floats), and
//!   units.
//! - A measurement's name and aliases are identifiers, and no name or alias answers for
//!   two measurements (a `dc.load(measurements=[..])` would be ambiguous).
//! - Flags (a quality band's bit meanings) name bits inside the dtype's width.
//! - [`Product::from_yaml`] reads an existing definition (another team's) through the
//!   same types: a measurement without `dtype` is refused with the field named.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::OdcError;

/// A measurement's data type, as ODC names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// `int8`.
    Int8,
    /// `int16`.
    Int16,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `uint8`.
    Uint8,
    /// `uint16`.
    Uint16,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `float32`.
    Float32,
    /// `float64`.
    Float64,
}

impl Dtype {
    /// ODC's name of the dtype.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Int8 => "int8",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Int64 => "int64",
            Dtype::Uint8 => "uint8",
            Dtype::Uint16 => "uint16",
            Dtype::Uint32 => "uint32",
            Dtype::Uint64 => "uint64",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
        }
    }

    /// The integer range of an integer dtype (`None` for floats).
    pub fn integer_range(self) -> Option<(i128, i128)> {
        let signed = |bits: u32| (-(1_i128 << (bits - 1)), (1_i128 << (bits - 1)) - 1);
        let unsigned = |bits: u32| (0, (1_i128 << bits) - 1);
        match self {
            Dtype::Int8 => Some(signed(8)),
            Dtype::Int16 => Some(signed(16)),
            Dtype::Int32 => Some(signed(32)),
            Dtype::Int64 => Some(signed(64)),
            Dtype::Uint8 => Some(unsigned(8)),
            Dtype::Uint16 => Some(unsigned(16)),
            Dtype::Uint32 => Some(unsigned(32)),
            Dtype::Uint64 => Some(unsigned(64)),
            Dtype::Float32 | Dtype::Float64 => None,
        }
    }

    /// The width in bits.
    pub fn bits(self) -> u8 {
        match self {
            Dtype::Int8 | Dtype::Uint8 => 8,
            Dtype::Int16 | Dtype::Uint16 => 16,
            Dtype::Int32 | Dtype::Uint32 | Dtype::Float32 => 32,
            Dtype::Int64 | Dtype::Uint64 | Dtype::Float64 => 64,
        }
    }

    /// Whether `nodata` is a value of this dtype.
    pub fn holds(self, nodata: Nodata) -> bool {
        match (self.integer_range(), nodata) {
            (Some((low, high)), Nodata::Integer(value)) => (low..=high).contains(&value),
            (Some(_), Nodata::Float(_) | Nodata::NaN) => false,
            (None, Nodata::NaN) => true,
            (None, Nodata::Integer(value)) => {
                // Exactly representable: float32 holds integers up to 2^24, float64 2^53.
                let exact = if self == Dtype::Float32 {
                    1_i128 << 24
                } else {
                    1_i128 << 53
                };
                value.abs() <= exact
            }
            (None, Nodata::Float(value)) => {
                value.is_finite() && (self == Dtype::Float64 || value.abs() <= f64::from(f32::MAX))
            }
        }
    }

    fn allowed(self) -> String {
        match self.integer_range() {
            Some((low, high)) => format!("an integer from {low} to {high}"),
            None => format!("a finite {} or NaN", self.name()),
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A measurement's nodata value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nodata {
    /// An integer (for integer dtypes, and floats exactly).
    Integer(i128),
    /// A float (for float dtypes; finite).
    Float(f64),
    /// Not a number (float dtypes only).
    NaN,
}

impl fmt::Display for Nodata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nodata::Integer(value) => write!(f, "{value}"),
            Nodata::Float(value) => write!(f, "{value}"),
            Nodata::NaN => f.write_str("NaN"),
        }
    }
}

impl Serialize for Nodata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nodata::Integer(value) => serializer.serialize_i128(*value),
            Nodata::Float(value) => serializer.serialize_f64(*value),
            // ODC's YAML spells it `NaN`, a string numpy reads back as float NaN.
            Nodata::NaN => serializer.serialize_str("NaN"),
        }
    }
}

impl<'de> Deserialize<'de> for Nodata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Integer(i64),
            Unsigned(u64),
            Float(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Integer(value) => Ok(Nodata::Integer(i128::from(value))),
            Raw::Unsigned(value) => Ok(Nodata::Integer(i128::from(value))),
            Raw::Float(value) if value.is_nan() => Ok(Nodata::NaN),
            Raw::Float(value) => Ok(Nodata::Float(value)),
            Raw::Text(text) if text.eq_ignore_ascii_case("nan") => Ok(Nodata::NaN),
            Raw::Text(text) => Err(serde::de::Error::custom(format!(
                "nodata {text:?} is not a number"
            ))),
        }
    }
}

/// One flag of a quality measurement: the bits it reads and the meaning of each value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// The bits, lowest first.
    pub bits: Bits,
    /// What the flag says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The meaning of each value the bits take.
    pub values: BTreeMap<u64, FlagValue>,
}

/// The bits a flag reads: one (`bits: 3`) or several (`bits: [8, 9]`), as ODC writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bits {
    /// One bit.
    One(u8),
    /// Several, lowest first.
    Many(Vec<u8>),
}

impl Bits {
    /// The bits.
    pub fn all(&self) -> Vec<u8> {
        match self {
            Bits::One(bit) => vec![*bit],
            Bits::Many(bits) => bits.clone(),
        }
    }
}

/// What a flag's value means: a boolean (`1: true`) or a label (`3: high`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlagValue {
    /// The flag is set or not.
    Boolean(bool),
    /// A label.
    Label(String),
}

/// One measurement (band) of a product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    name: String,
    dtype: Dtype,
    nodata: Nodata,
    units: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    flags_definition: BTreeMap<String, Flag>,
}

impl Measurement {
    /// Measurement `name` of `dtype`, `nodata` marking missing pixels, in `units` (`"1"`
    /// for a unitless quantity such as scaled reflectance).
    pub fn new(
        name: impl Into<String>,
        dtype: Dtype,
        nodata: Nodata,
        units: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            dtype,
            nodata,
            units: units.into(),
            aliases: Vec::new(),
            flags_definition: BTreeMap::new(),
        }
    }

    /// Loads may also name it `alias`.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Flag `name`: `bits` of the value mean `values` (labels).
    pub fn flag(
        self,
        name: impl Into<String>,
        bits: impl IntoIterator<Item = u8>,
        description: impl Into<String>,
        values: impl IntoIterator<Item = (u64, &'static str)>,
    ) -> Self {
        let values = values
            .into_iter()
            .map(|(v, m)| (v, FlagValue::Label(m.to_owned())))
            .collect();
        self.insert_flag(name.into(), bits, Some(description.into()), values)
    }

    /// Insert flag `name` over `bits` (one written as ODC writes one: a scalar).
    fn insert_flag(
        mut self,
        name: String,
        bits: impl IntoIterator<Item = u8>,
        description: Option<String>,
        values: BTreeMap<u64, FlagValue>,
    ) -> Self {
        let bits: Vec<u8> = bits.into_iter().collect();
        self.flags_definition.insert(
            name,
            Flag {
                bits: match bits.as_slice() {
                    [one] => Bits::One(*one),
                    _ => Bits::Many(bits),
                },
                description,
                values,
            },
        );
        self
    }

    /// Flag `name` over several `bits`: the bits' value `value` (shifted down by the
    /// lowest bit, as ODC reads it) means `name` holds (`value: true`), as WOfS's `wet`
    /// and `dry` read.
    pub fn flag_set(
        self,
        name: impl Into<String>,
        bits: impl IntoIterator<Item = u8>,
        description: impl Into<String>,
        value: u64,
    ) -> Self {
        let values = [(value, FlagValue::Boolean(true))].into();
        self.insert_flag(name.into(), bits, Some(description.into()), values)
    }

    /// Flag `name`: bit `bit` set means `name` holds (`0: false`, `1: true`).
    pub fn bit_flag(self, name: impl Into<String>, bit: u8) -> Self {
        let values = [
            (0, FlagValue::Boolean(false)),
            (1, FlagValue::Boolean(true)),
        ]
        .into();
        self.insert_flag(name.into(), [bit], None, values)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its dtype.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Its nodata.
    pub fn nodata(&self) -> Nodata {
        self.nodata
    }

    /// Its aliases.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// Its flags (`flags_definition`), by name.
    pub fn flags(&self) -> &BTreeMap<String, Flag> {
        &self.flags_definition
    }

    fn check(&self) -> Result<(), OdcError> {
        check_name("measurement", &self.name)?;
        for alias in &self.aliases {
            let identifier = !alias.is_empty()
                && alias.len() <= 64
                && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !identifier {
                return Err(OdcError::Alias {
                    measurement: self.name.clone(),
                    alias: alias.clone(),
                });
            }
        }
        if !self.dtype.holds(self.nodata) {
            return Err(OdcError::Nodata {
                measurement: self.name.clone(),
                dtype: self.dtype.name(),
                nodata: self.nodata.to_string(),
                allowed: self.dtype.allowed(),
            });
        }
        if self.units.trim().is_empty() {
            return Err(OdcError::Units(self.name.clone()));
        }
        for (flag, definition) in &self.flags_definition {
            for bit in definition.bits.all() {
                if self.dtype.integer_range().is_none() || bit >= self.dtype.bits() {
                    return Err(OdcError::FlagBit {
                        measurement: self.name.clone(),
                        flag: flag.clone(),
                        bit,
                        dtype: self.dtype.name(),
                    });
                }
            }
            // ODC reads a flag's value as the pixel's listed bits, shifted down by the
            // lowest: a value that sets any other bit never matches a pixel.
            let bits = definition.bits.all();
            let lowest = bits.iter().copied().min().unwrap_or(0);
            let mask: u128 = bits.iter().map(|bit| 1u128 << bit).sum();
            for value in definition.values.keys() {
                let placed = u128::from(*value).checked_shl(u32::from(lowest));
                if placed.is_none_or(|placed| {
                    placed & !mask != 0 || placed >> lowest != u128::from(*value)
                }) {
                    return Err(OdcError::FlagValue {
                        measurement: self.name.clone(),
                        flag: flag.clone(),
                        value: *value,
                        bits,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A product's metadata (`metadata.product.name`, the properties every dataset of it
/// carries, such as `eo:platform`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct ProductMetadata {
    product: NameOnly,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    properties: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct NameOnly {
    name: String,
}

/// An eo3 product definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[must_use]
pub struct Product {
    name: String,
    description: String,
    metadata_type: MetadataType,
    license: String,
    metadata: ProductMetadata,
    measurements: Vec<Measurement>,
}

/// The metadata type a product's datasets follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataType {
    /// `eo3`, ODC's current dataset document format.
    Eo3,
}

impl Product {
    /// Product `name`, described by `description`, under `license` (an SPDX id or the
    /// data's terms, `CC-BY-4.0`, `Copernicus`), of metadata type eo3.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        license: impl Into<String>,
    ) -> Self {
        let name = name.into();
        Self {
            metadata: ProductMetadata {
                product: NameOnly { name: name.clone() },
                properties: BTreeMap::new(),
            },
            name,
            description: description.into(),
            metadata_type: MetadataType::Eo3,
            license: license.into(),
            measurements: Vec::new(),
        }
    }

    /// Add a measurement.
    pub fn measurement(mut self, measurement: Measurement) -> Self {
        self.measurements.push(measurement);
        self
    }

    /// Every dataset of the product carries property `key` = `value` (`eo:platform`).
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.properties.insert(key.into(), value.into());
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its measurements.
    pub fn measurements(&self) -> &[Measurement] {
        &self.measurements
    }

    /// Check the definition: names, aliases, nodata against dtypes, units, flags, and no
    /// name or alias that answers for two measurements.
    pub fn check(&self) -> Result<(), OdcError> {
        check_name("product", &self.name)?;
        for (what, text) in [
            ("description", &self.description),
            ("license", &self.license),
        ] {
            if text.trim().is_empty() {
                return Err(OdcError::Missing {
                    product: self.name.clone(),
                    what,
                });
            }
        }
        if self.measurements.is_empty() {
            return Err(OdcError::NoMeasurements(self.name.clone()));
        }
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for measurement in &self.measurements {
            measurement.check()?;
            for name in std::iter::once(&measurement.name).chain(&measurement.aliases) {
                if let Some(first) = names.insert(name, &measurement.name) {
                    return Err(OdcError::Ambiguous {
                        product: self.name.clone(),
                        name: name.clone(),
                        first: first.to_owned(),
                        second: measurement.name.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The definition as `datacube product add` reads it (YAML), after [`Product::check`].
    pub fn to_yaml(&self) -> Result<String, OdcError> {
        self.check()?;
        serde_norway::to_string(self).map_err(|e| OdcError::Document(e.to_string()))
    }

    /// Read a definition (YAML or JSON), then check it.
    pub fn from_yaml(text: &str) -> Result<Self, OdcError> {
        let product: Product =
            serde_norway::from_str(text).map_err(|e| OdcError::Document(e.to_string()))?;
        product.check()?;
        Ok(product)
    }
}

/// ODC's names: identifiers (a letter, then letters, digits and `_`; USGS's `SR_B1`
/// measurements are upper case).
fn check_name(what: &'static str, name: &str) -> Result<(), OdcError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(OdcError::Name {
            what,
            name: name.to_owned(),
        })
    }
}
