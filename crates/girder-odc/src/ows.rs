//! datacube-ows configuration (WMS / WMTS over the index's products), typed and checked
//! against the products it serves, rendered as the JSON file datacube-ows reads
//! (`DATACUBE_OWS_CFG=/path/ows_cfg.json`).
//!
//! - A [`Layer`] serves one [`Product`]: its bands are measurements (or aliases) of that
//!   product, its styles read only those bands, its default style is one of its styles,
//!   and each style's scale range rises.
//! - Layer names are unique across the configuration (they are the WMS layer names).
//! - Resource limits default to datacube-ows's documented starting point for a public
//!   service (16 datasets per WMS request, a zoomed-out fill instead of a render below
//!   the minimum zoom).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use crate::error::OdcError;
use crate::product::Product;

/// The file name of the configuration in its ConfigMap, and so under the mount path
/// (`DATACUBE_OWS_CFG=<path>/ows_cfg.json`: a value with a leading slash is read as JSON
/// from that absolute path).
pub const CONFIG_FILE: &str = "ows_cfg.json";

/// How a style turns bands into colour.
#[derive(Clone, Debug, PartialEq)]
enum StyleKind {
    /// Each output channel from one band.
    Rgb {
        red: String,
        green: String,
        blue: String,
    },
    /// The normalised difference of two bands (`(a - b) / (a + b)`: NDVI with nir and
    /// red) on a Matplotlib colour ramp.
    NormalisedDifference {
        band1: String,
        band2: String,
        ramp: String,
    },
    /// A colour per flag of a quality band (WOfS's wet and dry).
    FlagColours {
        band: String,
        rules: Vec<FlagColour>,
    },
}

/// One rule of a flag-colour style: pixels whose flag `flag` is set get `colour`.
#[derive(Clone, Debug, PartialEq)]
struct FlagColour {
    title: String,
    flag: String,
    colour: String,
}

/// A style of a layer: an RGB composite or an index on a colour ramp.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Style {
    name: String,
    title: String,
    kind: StyleKind,
    scale_range: (f64, f64),
}

impl Style {
    /// Style `name` (`simple_rgb`), titled `title`, reading `red`, `green` and `blue` bands
    /// of the layer, values from `scale_range.0` (black) to `scale_range.1` (white).
    pub fn rgb(
        name: impl Into<String>,
        title: impl Into<String>,
        [red, green, blue]: [&str; 3],
        scale_range: (f64, f64),
    ) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            kind: StyleKind::Rgb {
                red: red.to_owned(),
                green: green.to_owned(),
                blue: blue.to_owned(),
            },
            scale_range,
        }
    }

    /// Style `name` (`ndvi`), titled `title`: the normalised difference of `band1` and
    /// `band2` (`("nir", "red")` for NDVI) through datacube-ows's
    /// `datacube_ows.band_utils.norm_diff`, its values from `range.0` to `range.1` on the
    /// Matplotlib colour ramp `ramp` (`RdYlGn`).
    pub fn normalised_difference(
        name: impl Into<String>,
        title: impl Into<String>,
        (band1, band2): (&str, &str),
        ramp: impl Into<String>,
        range: (f64, f64),
    ) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            kind: StyleKind::NormalisedDifference {
                band1: band1.to_owned(),
                band2: band2.to_owned(),
                ramp: ramp.into(),
            },
            scale_range: range,
        }
    }

    /// Style `name` (`water`), titled `title`: each of `rules`' flags of quality band
    /// `band` (`(title, flag, colour)`: `("Wet", "wet", "#4F81BD")`) in its `#RRGGBB`
    /// colour, the other pixels transparent (datacube-ows's `value_map`).
    pub fn flag_colours<'a>(
        name: impl Into<String>,
        title: impl Into<String>,
        band: &str,
        rules: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            kind: StyleKind::FlagColours {
                band: band.to_owned(),
                rules: rules
                    .into_iter()
                    .map(|(title, flag, colour)| FlagColour {
                        title: title.to_owned(),
                        flag: flag.to_owned(),
                        colour: colour.to_owned(),
                    })
                    .collect(),
            },
            scale_range: (0.0, 1.0),
        }
    }

    /// The style's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bands the style reads.
    pub fn bands(&self) -> Vec<&str> {
        match &self.kind {
            StyleKind::Rgb { red, green, blue } => vec![red.as_str(), green, blue],
            StyleKind::NormalisedDifference { band1, band2, .. } => vec![band1.as_str(), band2],
            StyleKind::FlagColours { band, .. } => vec![band.as_str()],
        }
    }

    fn document(&self) -> Json {
        let range = [self.scale_range.0, self.scale_range.1];
        match &self.kind {
            StyleKind::Rgb { red, green, blue } => json!({
                "name": self.name,
                "title": self.title,
                "abstract": "",
                "components": {
                    "red": {red: 1.0},
                    "green": {green: 1.0},
                    "blue": {blue: 1.0},
                },
                "scale_range": range,
            }),
            StyleKind::NormalisedDifference { band1, band2, ramp } => json!({
                "name": self.name,
                "title": self.title,
                "abstract": "",
                "index_function": {
                    "function": "datacube_ows.band_utils.norm_diff",
                    "mapped_bands": true,
                    "kwargs": {"band1": band1, "band2": band2},
                },
                "needed_bands": [band1, band2],
                "mpl_ramp": ramp,
                "range": range,
                "legend": {"begin": range[0].to_string(), "end": range[1].to_string()},
            }),
            StyleKind::FlagColours { band, rules } => json!({
                "name": self.name,
                "title": self.title,
                "abstract": "",
                "needed_bands": [band],
                "value_map": {
                    band: rules.iter().map(|rule| json!({
                        "title": rule.title,
                        "abstract": "",
                        "flags": {&rule.flag: true},
                        "color": rule.colour,
                    })).collect::<Vec<_>>(),
                },
            }),
        }
    }
}

/// How a layer's datasets' times map to the dates a client asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeResolution {
    /// Scenes: the local solar day of the capture (datacube-ows's default).
    #[default]
    Solar,
    /// Summaries (an annual geomedian): the start date of each dataset's period.
    Summary,
}

impl TimeResolution {
    fn as_str(self) -> &'static str {
        match self {
            Self::Solar => "solar",
            Self::Summary => "summary",
        }
    }
}

/// A WMS / WMTS layer of one product.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Layer {
    name: String,
    title: String,
    abstract_: String,
    product: Product,
    bands: Vec<String>,
    styles: Vec<Style>,
    default_style: Option<String>,
    native_crs: String,
    native_resolution: (f64, f64),
    max_datasets: u16,
    time_resolution: TimeResolution,
    dynamic: bool,
}

impl Layer {
    /// Layer `name` (the WMS name), titled `title`, serving `product`, in its native
    /// `crs` (`EPSG:6933`) and `resolution` (metres, `(10.0, -10.0)`).
    pub fn new(
        name: impl Into<String>,
        title: impl Into<String>,
        product: &Product,
        crs: impl Into<String>,
        resolution: (f64, f64),
    ) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            abstract_: String::new(),
            product: product.clone(),
            bands: Vec::new(),
            styles: Vec::new(),
            default_style: None,
            native_crs: crs.into(),
            native_resolution: resolution,
            max_datasets: 16,
            time_resolution: TimeResolution::Solar,
            dynamic: false,
        }
    }

    /// What the layer shows (the WMS abstract).
    pub fn abstract_text(mut self, text: impl Into<String>) -> Self {
        self.abstract_ = text.into();
        self
    }

    /// The layer serves `band` (a measurement of its product, or an alias of one).
    pub fn band(mut self, band: impl Into<String>) -> Self {
        self.bands.push(band.into());
        self
    }

    /// A style of the layer; the first is the default unless [`Layer::default_style`].
    pub fn style(mut self, style: Style) -> Self {
        self.styles.push(style);
        self
    }

    /// The style a request without `styles=` gets.
    pub fn default_style(mut self, name: impl Into<String>) -> Self {
        self.default_style = Some(name.into());
        self
    }

    /// At most `count` datasets per WMS request (1 to 1000; default 16): beyond, a
    /// zoomed-out fill is returned instead of a render that would exhaust the pod.
    pub fn max_datasets(mut self, count: u16) -> Self {
        self.max_datasets = count;
        self
    }

    /// How its datasets' times map to dates (default [`TimeResolution::Solar`]).
    pub fn time_resolution(mut self, resolution: TimeResolution) -> Self {
        self.time_resolution = resolution;
        self
    }

    /// Its dates and extent are read from datacube-ows's range table at every request
    /// (`dynamic`), not once when the process starts: a layer whose product is indexed
    /// while the service runs shows the new dates without a restart (and a layer that
    /// had no ranges yet at the start appears once `datacube-ows-update` has written
    /// them). One small query per request.
    pub fn dynamic(mut self) -> Self {
        self.dynamic = true;
        self
    }

    /// The WMS layer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The product it serves.
    pub fn product(&self) -> &Product {
        &self.product
    }

    /// Its styles.
    pub fn styles(&self) -> &[Style] {
        &self.styles
    }

    /// At most this many datasets per request.
    pub fn datasets_per_request(&self) -> u16 {
        self.max_datasets
    }

    fn check(&self) -> Result<(), OdcError> {
        let refuse = |reason: String| OdcError::Ows {
            layer: self.name.clone(),
            reason,
        };
        let identifier = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !identifier {
            return Err(refuse(
                "the name is not a WMS layer name (letters, digits, '_', '-')".into(),
            ));
        }
        let known: BTreeSet<&str> = self
            .product
            .measurements()
            .iter()
            .flat_map(|m| std::iter::once(m.name()).chain(m.aliases().iter().map(String::as_str)))
            .collect();
        if self.bands.is_empty() {
            return Err(refuse("it serves no band".into()));
        }
        for band in &self.bands {
            if !known.contains(band.as_str()) {
                return Err(refuse(format!(
                    "band {band:?} is not a measurement or alias of product {:?}",
                    self.product.name()
                )));
            }
        }
        if self.styles.is_empty() {
            return Err(refuse("it has no style".into()));
        }
        let mut names = BTreeSet::new();
        for style in &self.styles {
            if !names.insert(style.name.as_str()) {
                return Err(refuse(format!("two styles are named {:?}", style.name)));
            }
            for band in style.bands() {
                if !self.bands.iter().any(|b| b == band) {
                    return Err(refuse(format!(
                        "style {:?} reads band {band:?}, which the layer does not serve",
                        style.name
                    )));
                }
            }
            if let StyleKind::FlagColours { band, rules } = &style.kind {
                self.check_flag_rules(&style.name, band, rules)
                    .map_err(refuse)?;
            }
            let (low, high) = style.scale_range;
            if !(low.is_finite() && high.is_finite() && low < high) {
                return Err(refuse(format!(
                    "style {:?}: scale range {low} to {high} does not rise",
                    style.name
                )));
            }
        }
        if let Some(default) = &self.default_style
            && !names.contains(default.as_str())
        {
            return Err(refuse(format!(
                "default style {default:?} is not one of its styles"
            )));
        }
        if !(1..=1000).contains(&self.max_datasets) {
            return Err(refuse(format!(
                "{} datasets per request: 1 to 1000",
                self.max_datasets
            )));
        }
        Ok(())
    }

    /// A flag-colour style's rules name flags of its band's measurement, each in a
    /// `#RRGGBB` colour, at least one.
    fn check_flag_rules(
        &self,
        style: &str,
        band: &str,
        rules: &[FlagColour],
    ) -> Result<(), String> {
        let measurement = self
            .product
            .measurements()
            .iter()
            .find(|m| m.name() == band || m.aliases().iter().any(|a| a == band));
        let flags = measurement.map(|m| m.flags()).filter(|f| !f.is_empty());
        let Some(flags) = flags else {
            return Err(format!("style {style:?}: band {band:?} has no flags"));
        };
        if rules.is_empty() {
            return Err(format!("style {style:?} colours no flag"));
        }
        for rule in rules {
            if !flags.contains_key(&rule.flag) {
                return Err(format!(
                    "style {style:?}: {:?} is not a flag of band {band:?} ({:?})",
                    rule.flag,
                    flags.keys().collect::<Vec<_>>()
                ));
            }
            let hex = rule.colour.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "style {style:?}: colour {:?} is not #RRGGBB",
                    rule.colour
                ));
            }
        }
        Ok(())
    }

    fn document(&self) -> Json {
        let bands: BTreeMap<&str, Vec<String>> = self
            .bands
            .iter()
            .map(|b| (b.as_str(), Vec::new()))
            .collect();
        let default = self
            .default_style
            .clone()
            .or_else(|| self.styles.first().map(|s| s.name.clone()));
        json!({
            "name": self.name,
            "title": self.title,
            "abstract": self.abstract_,
            "product_name": self.product.name(),
            "bands": bands,
            "native_crs": self.native_crs,
            "native_resolution": [self.native_resolution.0, self.native_resolution.1],
            "time_resolution": self.time_resolution.as_str(),
            "dynamic": self.dynamic,
            "resource_limits": {
                "wms": {
                    "zoomed_out_fill_colour": [150, 180, 200, 160],
                    "min_zoom_factor": 35.0,
                    "max_datasets": self.max_datasets,
                },
                "wcs": {"max_datasets": self.max_datasets},
            },
            "image_processing": {
                "extent_mask_func": "datacube_ows.ogc_utils.mask_by_val",
                "always_fetch_bands": [],
                "manual_merge": false,
            },
            "styling": {
                "default_style": default,
                "styles": self.styles.iter().map(Style::document).collect::<Vec<_>>(),
            },
        })
    }
}

/// A datacube-ows configuration: the service's title, the URLs it answers on, its
/// layers in folders.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct OwsConfig {
    title: String,
    allowed_urls: Vec<String>,
    folders: Vec<(String, Vec<Layer>)>,
}

impl OwsConfig {
    /// A WMS and WMTS service titled `title`, answering on `allowed_urls`
    /// (`https://ows.dev.piksel.internal`), publishing Web Mercator and WGS 84.
    pub fn new<S: Into<String>>(
        title: impl Into<String>,
        allowed_urls: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            title: title.into(),
            allowed_urls: allowed_urls.into_iter().map(Into::into).collect(),
            folders: Vec::new(),
        }
    }

    /// A folder of layers titled `title`.
    pub fn folder(
        mut self,
        title: impl Into<String>,
        layers: impl IntoIterator<Item = Layer>,
    ) -> Self {
        self.folders
            .push((title.into(), layers.into_iter().collect()));
        self
    }

    /// Every layer, folder by folder.
    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.folders.iter().flat_map(|(_, layers)| layers.iter())
    }

    /// Check every layer, and that layer names are unique and a URL is given.
    pub fn check(&self) -> Result<(), OdcError> {
        if self.allowed_urls.is_empty()
            || !self
                .allowed_urls
                .iter()
                .all(|u| u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(OdcError::Ows {
                layer: String::new(),
                reason: format!(
                    "allowed URLs {:?}: one or more http(s) URLs",
                    self.allowed_urls
                ),
            });
        }
        let mut names = BTreeSet::new();
        for (_, layers) in &self.folders {
            for layer in layers {
                layer.check()?;
                if !names.insert(layer.name.as_str()) {
                    return Err(OdcError::Ows {
                        layer: layer.name.clone(),
                        reason: "two layers have this name".into(),
                    });
                }
            }
        }
        if names.is_empty() {
            return Err(OdcError::Ows {
                layer: String::new(),
                reason: "the configuration has no layer".into(),
            });
        }
        Ok(())
    }

    /// The JSON datacube-ows reads, after [`OwsConfig::check`].
    pub fn to_json(&self) -> Result<String, OdcError> {
        self.check()?;
        let document = json!({
            "global": {
                "title": self.title,
                "allowed_urls": self.allowed_urls,
                "services": {"wms": true, "wmts": true, "wcs": false},
                "published_CRSs": {
                    "EPSG:3857": {"geographic": false, "horizontal_coord": "x", "vertical_coord": "y"},
                    "EPSG:4326": {"geographic": true, "vertical_coord_first": true},
                },
            },
            "wms": {"max_width": 512, "max_height": 512},
            "layers": self.folders.iter().map(|(title, layers)| json!({
                "title": title,
                "abstract": "",
                "layers": layers.iter().map(Layer::document).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&document).map_err(|e| OdcError::Document(e.to_string()))
    }
}
