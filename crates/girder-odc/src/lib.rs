//! girder-odc: the Open Data Cube for girder.
//!
//! - [`Product`]: typed eo3 product definitions, checked before synth (names, aliases
//!   that answer for one measurement only, nodata inside its [`Dtype`], units, flag
//!   bits), rendered as `datacube product add` reads them, and read back from another
//!   team's YAML through the same checks ([`Product::from_yaml`]).
//! - [`OwsConfig`]: datacube-ows's WMS / WMTS configuration, each [`Layer`] checked
//!   against its product (bands, styles, default style), rendered as the JSON it reads.
//! - [`catalogue`]: shared definitions (Sentinel-2 L2A as Digital Earth Africa indexes it).
//!
//! The index, its users, the indexing jobs, datacube-ows's deployment and Explorer come next (issue
//! 14); see ARCHITECTURE.md.

pub mod catalogue;
mod error;
mod ows;
mod product;

pub use error::OdcError;
pub use ows::{Layer, OwsConfig, Style};
pub use product::{Bits, Dtype, Flag, FlagValue, Measurement, MetadataType, Nodata, Product};
