//! girder-odc: the Open Data Cube for girder.
//!
//! - [`Product`]: typed eo3 product definitions, checked before synth (names, aliases
//!   that answer for one measurement only, nodata inside its [`Dtype`], units, flag
//!   bits), rendered as `datacube product add` reads them, and read back from another
//!   team's YAML through the same checks ([`Product::from_yaml`]).
//! - [`OwsConfig`]: datacube-ows's WMS / WMTS configuration, each [`Layer`] checked
//!   against its product (bands, styles, default style), rendered as the JSON it reads.
//! - [`catalogue`]: shared definitions (Sentinel-2 L2A as Digital Earth Africa indexes it).
//! - [`charts`]: the datacube-ows and datacube-explorer charts' values, typed and made
//!   from one [`charts::OdcService`] (image by digest, index database, replicas,
//!   resources, restricted security contexts, nodes, ingress), checked before synth.
//!
//! The index, its users and the indexing jobs are the stacks' (issue 14); see
//! ARCHITECTURE.md.

pub mod catalogue;
pub mod charts;
mod error;
mod ows;
mod product;

pub use error::{OdcError, ResourceProblem};
pub use ows::{CONFIG_FILE, Layer, OwsConfig, Style, TimeResolution};
pub use product::{Bits, Dtype, Flag, FlagValue, Measurement, MetadataType, Nodata, Product};
