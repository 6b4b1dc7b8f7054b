#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! datacube-ows's flag-colour styles: the flags of the layer's quality band, in colours.

use girder_odc::{Layer, OdcError, OwsConfig, Style, catalogue};
use serde_json::{Value, json};

fn wofs(style: Style) -> OwsConfig {
    OwsConfig::new("Piksel", ["http://ows.dev.piksel.internal"]).folder(
        "Water",
        [Layer::new(
            "wofs_ls",
            "Water observations",
            &catalogue::wofs_landsat(),
            "EPSG:3857",
            (30.0, -30.0),
        )
        .band("water")
        .style(style)],
    )
}

#[test]
fn a_flag_colour_style_renders_a_value_map_of_the_flags() {
    let style = Style::flag_colours(
        "water",
        "Wet and dry",
        "water",
        [("Wet", "wet", "#4F81BD"), ("Dry", "dry", "#D99694")],
    );
    let doc: Value = serde_json::from_str(&wofs(style).to_json().unwrap()).unwrap();
    let rendered = &doc["layers"][0]["layers"][0]["styling"]["styles"][0];
    let rules = &rendered["value_map"]["water"];
    assert_eq!(rules[0]["flags"], json!({"wet": true}));
    assert_eq!(rules[0]["color"], "#4F81BD");
    assert_eq!(rules[1]["flags"], json!({"dry": true}));
    assert_eq!(rendered["needed_bands"], json!(["water"]));
}

#[test]
fn a_flag_the_band_lacks_or_a_colour_that_is_not_one_is_refused() {
    for rules in [
        vec![("Flooded", "flooded", "#4F81BD")],
        vec![("Wet", "wet", "blue")],
        vec![],
    ] {
        let style = Style::flag_colours("water", "Water", "water", rules.clone());
        let error = wofs(style).check().unwrap_err();
        assert!(
            matches!(&error, OdcError::Ows { layer, .. } if layer == "wofs_ls"),
            "{rules:?}: {error:?}"
        );
    }
}

#[test]
fn a_flag_colour_style_of_a_band_without_flags_is_refused() {
    let layer = Layer::new(
        "s2",
        "Sentinel-2",
        &catalogue::sentinel2_l2a(),
        "EPSG:3857",
        (10.0, -10.0),
    )
    .band("red")
    .style(Style::flag_colours(
        "red",
        "Red",
        "red",
        [("Wet", "wet", "#4F81BD")],
    ));
    let error = OwsConfig::new("Piksel", ["http://ows.example"])
        .folder("f", [layer])
        .check()
        .unwrap_err();
    assert!(matches!(error, OdcError::Ows { layer, .. } if layer == "s2"));
}
