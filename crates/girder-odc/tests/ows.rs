#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! datacube-ows configuration: layers checked against the products they serve.

use girder_odc::{Layer, OdcError, OwsConfig, Style, catalogue};

fn s2_layer() -> Layer {
    Layer::new(
        "s2_l2a",
        "Surface reflectance (Sentinel-2)",
        &catalogue::sentinel2_l2a(),
        "EPSG:3857",
        (10.0, -10.0),
    )
    .band("red")
    .band("green")
    .band("blue")
    .band("nir")
    .style(Style::rgb(
        "simple_rgb",
        "True colour",
        ["red", "green", "blue"],
        (0.0, 3000.0),
    ))
    .style(Style::rgb(
        "infrared_green",
        "False colour",
        ["nir", "red", "green"],
        (0.0, 4000.0),
    ))
}

fn reason(error: OdcError) -> String {
    match error {
        OdcError::Ows { reason, .. } => reason,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_layer_renders_as_datacube_ows_reads_it() {
    let json = OwsConfig::new("Piksel", ["https://ows.dev.piksel.internal"])
        .folder("Surface reflectance", [s2_layer()])
        .to_json()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let layer = &doc["layers"][0]["layers"][0];
    assert_eq!(layer["product_name"], "s2_l2a");
    assert_eq!(layer["styling"]["default_style"], "simple_rgb");
    assert_eq!(
        layer["styling"]["styles"][1]["components"]["red"]["nir"],
        1.0
    );
    assert_eq!(layer["resource_limits"]["wms"]["max_datasets"], 16);
    assert_eq!(doc["global"]["services"]["wms"], true);
}

#[test]
fn a_band_the_product_lacks_is_refused() {
    let error = OwsConfig::new("Piksel", ["https://ows.example"])
        .folder("f", [s2_layer().band("thermal")])
        .check()
        .unwrap_err();
    assert!(reason(error).contains("\"thermal\""));
}

#[test]
fn a_style_reading_a_band_the_layer_does_not_serve_is_refused() {
    let layer = s2_layer().style(Style::rgb(
        "swir",
        "SWIR",
        ["swir16", "nir", "red"],
        (0.0, 4000.0),
    ));
    let error = OwsConfig::new("Piksel", ["https://ows.example"])
        .folder("f", [layer])
        .check()
        .unwrap_err();
    assert!(reason(error).contains("swir16"));
}

#[test]
fn a_missing_default_style_a_falling_scale_or_a_twice_used_name_is_refused() {
    for layer in [
        s2_layer().default_style("ndvi"),
        s2_layer().style(Style::rgb(
            "bad",
            "Bad",
            ["red", "green", "blue"],
            (3000.0, 0.0),
        )),
        s2_layer().style(Style::rgb(
            "simple_rgb",
            "Again",
            ["red", "green", "blue"],
            (0.0, 1.0),
        )),
        s2_layer().max_datasets(0),
    ] {
        assert!(matches!(
            OwsConfig::new("Piksel", ["https://ows.example"])
                .folder("f", [layer])
                .check(),
            Err(OdcError::Ows { .. })
        ));
    }
    let error = OwsConfig::new("Piksel", ["https://ows.example"])
        .folder("f", [s2_layer(), s2_layer()])
        .check()
        .unwrap_err();
    assert_eq!(
        error,
        OdcError::Ows {
            layer: "s2_l2a".into(),
            reason: "two layers have this name".into()
        }
    );
    assert!(
        OwsConfig::new("Piksel", Vec::<String>::new())
            .folder("f", [s2_layer()])
            .check()
            .is_err()
    );
}

#[test]
fn a_dynamic_layer_reads_its_ranges_at_every_request() {
    // Review 6's B1: datacube-ows reads a static layer's ranges once, at start; a layer
    // indexed while it runs (or before its first range update) needs `dynamic`.
    let render = |layer: Layer| {
        let json = OwsConfig::new("test", ["http://ows.test"])
            .folder("Sentinel-2", [layer])
            .to_json()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        doc["layers"][0]["layers"][0]["dynamic"].clone()
    };
    assert_eq!(render(s2_layer()), false);
    assert_eq!(render(s2_layer().dynamic()), true);
}
