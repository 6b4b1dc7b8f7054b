#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Typed product definitions: what the index would refuse at load time is refused before
//! synth, with the measurement and the value named; definitions round-trip through YAML.

use girder_odc::{Dtype, Measurement, Nodata, OdcError, Product, catalogue};
use proptest::prelude::*;

fn product_with(measurements: Vec<Measurement>) -> Product {
    measurements.into_iter().fold(
        Product::new("test_product", "A test product", "CC-BY-4.0"),
        Product::measurement,
    )
}

#[test]
fn sentinel2_l2a_checks_and_matches_what_de_africa_indexes() {
    let product = catalogue::sentinel2_l2a();
    product.check().unwrap();
    assert_eq!(product.name(), "s2_l2a");
    assert_eq!(product.measurements().len(), 15);
    let red = product
        .measurements()
        .iter()
        .find(|m| m.name() == "red")
        .unwrap();
    assert_eq!(red.dtype(), Dtype::Uint16);
    assert_eq!(red.nodata(), Nodata::Integer(0));
    assert_eq!(red.aliases(), ["band_04", "B04"]);
    let yaml = product.to_yaml().unwrap();
    assert!(yaml.contains("metadata_type: eo3"), "{yaml}");
    assert!(yaml.contains("name: s2_l2a"), "{yaml}");
    // Round trip: what synth writes reads back as the same product.
    assert_eq!(Product::from_yaml(&yaml).unwrap(), product);
}

#[test]
fn a_measurement_without_dtype_is_refused_with_the_field_named() {
    let yaml = r#"
name: broken
description: A product whose band forgot its dtype
metadata_type: eo3
license: CC-BY-4.0
metadata:
  product:
    name: broken
measurements:
  - name: red
    units: "1"
    nodata: 0
"#;
    match Product::from_yaml(yaml) {
        Err(OdcError::Document(message)) => assert!(message.contains("dtype"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn de_africas_alias_with_a_space_is_refused() {
    // digitalearthafrica/config's s2_l2a lists `[scene_average_water_vapour WVP]`.
    let error = product_with(vec![
        Measurement::new("wvp", Dtype::Uint16, Nodata::Integer(0), "1")
            .alias("scene_average_water_vapour WVP"),
    ])
    .check()
    .unwrap_err();
    assert_eq!(
        error,
        OdcError::Alias {
            measurement: "wvp".into(),
            alias: "scene_average_water_vapour WVP".into(),
        }
    );
}

#[test]
fn a_nodata_outside_its_dtype_is_refused() {
    for (dtype, nodata) in [
        (Dtype::Uint8, Nodata::Integer(256)),
        (Dtype::Uint16, Nodata::Integer(-1)),
        (Dtype::Int16, Nodata::Integer(32768)),
        (Dtype::Uint16, Nodata::Float(0.5)),
        (Dtype::Int32, Nodata::NaN),
        (Dtype::Float32, Nodata::Float(f64::INFINITY)),
        (Dtype::Float32, Nodata::Float(1e39)),
    ] {
        let error = product_with(vec![Measurement::new("band", dtype, nodata, "1")])
            .check()
            .unwrap_err();
        assert!(
            matches!(&error, OdcError::Nodata { measurement, dtype: d, .. } if measurement == "band" && *d == dtype.name()),
            "{dtype} {nodata}: {error:?}"
        );
    }
    // What the index takes.
    for (dtype, nodata) in [
        (Dtype::Int16, Nodata::Integer(-999)),
        (Dtype::Uint8, Nodata::Integer(255)),
        (Dtype::Float32, Nodata::NaN),
        (Dtype::Float64, Nodata::Float(-9999.0)),
        (Dtype::Float32, Nodata::Integer(-9999)),
    ] {
        product_with(vec![Measurement::new("band", dtype, nodata, "1")])
            .check()
            .unwrap();
    }
}

#[test]
fn a_name_or_alias_answering_for_two_measurements_is_refused() {
    let error = product_with(vec![
        Measurement::new("red", Dtype::Uint16, Nodata::Integer(0), "1").alias("band_04"),
        Measurement::new("nir", Dtype::Uint16, Nodata::Integer(0), "1").alias("band_04"),
    ])
    .check()
    .unwrap_err();
    assert_eq!(
        error,
        OdcError::Ambiguous {
            product: "test_product".into(),
            name: "band_04".into(),
            first: "red".into(),
            second: "nir".into(),
        }
    );
    // An alias equal to another measurement's name is as ambiguous.
    let error = product_with(vec![
        Measurement::new("red", Dtype::Uint16, Nodata::Integer(0), "1"),
        Measurement::new("nir", Dtype::Uint16, Nodata::Integer(0), "1").alias("red"),
    ])
    .check()
    .unwrap_err();
    assert!(matches!(error, OdcError::Ambiguous { .. }), "{error:?}");
}

#[test]
fn names_units_flags_and_empty_products_are_checked() {
    let error = Product::new("S2-L2A", "d", "l")
        .measurement(Measurement::new(
            "red",
            Dtype::Uint8,
            Nodata::Integer(0),
            "1",
        ))
        .check()
        .unwrap_err();
    assert_eq!(
        error,
        OdcError::Name {
            what: "product",
            name: "S2-L2A".into()
        }
    );
    assert_eq!(
        Product::new("p", "d", "l").check().unwrap_err(),
        OdcError::NoMeasurements("p".into())
    );
    assert_eq!(
        product_with(vec![Measurement::new(
            "red",
            Dtype::Uint8,
            Nodata::Integer(0),
            " "
        )])
        .check()
        .unwrap_err(),
        OdcError::Units("red".into())
    );
    let error = product_with(vec![
        Measurement::new("qa", Dtype::Uint8, Nodata::Integer(0), "1").flag(
            "cloud",
            [8],
            "a bit past the byte",
            [(1, "cloud")],
        ),
    ])
    .check()
    .unwrap_err();
    assert!(
        matches!(error, OdcError::FlagBit { bit: 8, .. }),
        "{error:?}"
    );
    assert_eq!(
        Product::new("p", " ", "l")
            .measurement(Measurement::new(
                "red",
                Dtype::Uint8,
                Nodata::Integer(0),
                "1"
            ))
            .check()
            .unwrap_err(),
        OdcError::Missing {
            product: "p".into(),
            what: "description"
        }
    );
}

proptest! {
    /// An integer dtype holds exactly the integers of its range, whatever the value.
    #[test]
    fn integer_dtypes_hold_exactly_their_range(value in -70_000_i64..70_000) {
        for dtype in [Dtype::Int8, Dtype::Uint8, Dtype::Int16, Dtype::Uint16] {
            let (low, high) = dtype.integer_range().unwrap();
            let inside = (low..=high).contains(&i128::from(value));
            prop_assert_eq!(dtype.holds(Nodata::Integer(i128::from(value))), inside);
        }
    }

    /// A product that checks renders to YAML that reads back to itself.
    #[test]
    fn checked_products_round_trip(nodata in 0_u16..=u16::MAX, alias in "[a-z][a-z0-9_]{0,12}") {
        prop_assume!(alias != "red");
        let product = product_with(vec![
            Measurement::new("red", Dtype::Uint16, Nodata::Integer(i128::from(nodata)), "1").alias(alias.clone()),
        ]);
        let yaml = product.to_yaml().unwrap();
        prop_assert_eq!(Product::from_yaml(&yaml).unwrap(), product);
    }
}

#[test]
fn landsat8_c2l2_sr_checks_with_its_bit_flags() {
    let product = catalogue::landsat8_c2l2_sr();
    product.check().unwrap();
    assert_eq!(product.name(), "ls8_sr");
    let names: Vec<&str> = product.measurements().iter().map(|m| m.name()).collect();
    assert_eq!(
        names,
        // USGS's STAC asset keys (an item's asset keys become its dataset's
        // measurement names): review 5's M2.
        [
            "coastal",
            "blue",
            "green",
            "red",
            "nir08",
            "swir16",
            "swir22",
            "qa_pixel",
            "qa_radsat",
            "qa_aerosol"
        ]
    );
    // DE Africa's names still load: they are aliases.
    let yaml = product.to_yaml().unwrap();
    for alias in ["SR_B1", "SR_B7", "QA_PIXEL", "SR_QA_AEROSOL"] {
        assert!(yaml.contains(&format!("- {alias}\n")), "{alias}");
    }
    let yaml = product.to_yaml().unwrap();
    // ODC's forms: one bit as a scalar, several as a list; booleans for bit flags.
    assert!(yaml.contains("bits: 3"), "{yaml}");
    assert!(yaml.contains("- 8\n") || yaml.contains("[8, 9]"), "{yaml}");
    assert!(yaml.contains("1: true"), "{yaml}");
    assert_eq!(Product::from_yaml(&yaml).unwrap(), product);
}

#[test]
fn another_teams_definition_reads_in_odcs_forms() {
    // Scalar and list bits, boolean and label values, no flag description: as the
    // definitions Earth-observation teams publish write them.
    let yaml = r#"
name: example_sr
description: An example surface reflectance product
metadata_type: eo3
license: CC-BY-4.0
metadata:
  product:
    name: example_sr
measurements:
  - name: SR_B4
    units: "1"
    dtype: uint16
    nodata: 0
    aliases: [band_4, red]
  - name: QA_PIXEL
    units: bit_index
    dtype: uint16
    nodata: 1
    flags_definition:
      cloud:
        bits: 3
        values:
          0: not_high_confidence
          1: high_confidence
      clear:
        bits: 6
        values:
          0: false
          1: true
      cloud_confidence:
        bits: [8, 9]
        values:
          0: none
          3: high
"#;
    let product = Product::from_yaml(yaml).unwrap();
    assert_eq!(product.measurements().len(), 2);
    // And a flag past the dtype's width is refused there too.
    let wide = yaml.replace("bits: [8, 9]", "bits: [16, 17]");
    assert!(matches!(
        Product::from_yaml(&wide),
        Err(OdcError::FlagBit { bit: 16, .. })
    ));
}

#[test]
fn the_sentinel2_geomedian_carries_nan_nodata_through_yaml() {
    let product = catalogue::sentinel2_geomedian_annual();
    product.check().unwrap();
    let smad = product
        .measurements()
        .iter()
        .find(|m| m.name() == "SMAD")
        .unwrap();
    assert_eq!(smad.nodata(), Nodata::NaN);
    let yaml = product.to_yaml().unwrap();
    assert!(yaml.contains("nodata: NaN"), "{yaml}");
    assert_eq!(Product::from_yaml(&yaml).unwrap(), product);
    // YAML's own `.nan` (as DE Africa writes it) reads as the same NaN.
    let dotnan = yaml.replace("nodata: NaN", "nodata: .nan");
    assert_eq!(Product::from_yaml(&dotnan).unwrap(), product);
}

#[test]
fn landsat9_is_landsat8s_definition_for_its_own_platform() {
    let eight = catalogue::landsat8_c2l2_sr();
    let nine = catalogue::landsat9_c2l2_sr();
    nine.check().unwrap();
    assert_eq!(nine.name(), "ls9_sr");
    assert_eq!(nine.measurements(), eight.measurements());
    let yaml = nine.to_yaml().unwrap();
    assert!(yaml.contains("eo:platform: landsat-9"), "{yaml}");
    assert_eq!(Product::from_yaml(&yaml).unwrap(), nine);
}

#[test]
fn wofs_reads_wet_and_dry_over_the_classification_bits() {
    let wofs = catalogue::wofs_landsat();
    wofs.check().unwrap();
    let yaml = wofs.to_yaml().unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
    let flags = &doc["measurements"][0]["flags_definition"];
    assert_eq!(
        flags["wet"]["bits"],
        serde_json::json!([7, 6, 5, 4, 3, 1, 0])
    );
    assert_eq!(flags["wet"]["values"]["128"], true);
    assert_eq!(flags["dry"]["values"]["0"], true);
    assert_eq!(flags["nodata"]["bits"], 0);
    assert_eq!(doc["measurements"][0]["nodata"], 1);
    assert_eq!(Product::from_yaml(&yaml).unwrap(), wofs);
}

#[test]
fn a_flag_value_setting_a_bit_the_flag_does_not_read_is_refused() {
    // Bit 2 is not among the bits: 4 (bit 2 set) never matches a pixel.
    for (bits, value) in [
        (vec![7, 6, 5, 4, 3, 1, 0], 4_u64),
        (vec![8, 9], 4),
        (vec![3], 2),
    ] {
        let product = product_with(vec![
            Measurement::new("qa", Dtype::Uint16, Nodata::Integer(0), "1").flag_set(
                "odd",
                bits.clone(),
                "a value outside its bits",
                value,
            ),
        ]);
        assert_eq!(
            product.check().unwrap_err(),
            OdcError::FlagValue {
                measurement: "qa".into(),
                flag: "odd".into(),
                value,
                bits,
            }
        );
    }
    // Values within their bits are accepted, shifted down by the lowest.
    product_with(vec![
        Measurement::new("qa", Dtype::Uint16, Nodata::Integer(0), "1").flag(
            "confidence",
            [8, 9],
            "two bits",
            [(3, "high")],
        ),
    ])
    .check()
    .unwrap();
}
