//! Product definitions Earth-observation platforms share, as girder types.

use crate::product::{Dtype, Measurement, Nodata, Product};

/// Sentinel-2 Level-2A surface reflectance as Element 84's Cloud Optimised GeoTIFFs
/// (`s2_l2a`), as Digital Earth Africa defines it (digitalearthafrica/config,
/// `products/esa_s2_l2a.odc-product.yaml`): 12 bands as `uint16` scaled reflectance
/// (nodata 0, units `"1"`), the scene classification `scl` (`uint8`, with its flags),
/// aerosol optical thickness and water vapour. Their file lists `wvp`'s aliases as
/// `[scene_average_water_vapour WVP]`, one alias with a space (a comma forgotten):
/// here they are two.
pub fn sentinel2_l2a() -> Product {
    let band = |name: &str, aliases: &[&str]| {
        aliases.iter().fold(
            Measurement::new(name, Dtype::Uint16, Nodata::Integer(0), "1"),
            |m, alias| m.alias(*alias),
        )
    };
    let mut product = Product::new(
        "s2_l2a",
        "Sentinel-2a and Sentinel-2b imagery, processed to Level 2A (Surface Reflectance) and converted to Cloud Optimized GeoTIFFs",
        "Copernicus",
    )
    .property("eo:platform", "sentinel-2")
    .property("eo:instrument", "MSI");
    for (name, aliases) in [
        ("coastal", &["band_01", "coastal_aerosol", "B01"][..]),
        ("blue", &["band_02", "B02"]),
        ("green", &["band_03", "B03"]),
        ("red", &["band_04", "B04"]),
        ("rededge1", &["band_05", "red_edge_1", "B05"]),
        ("rededge2", &["band_06", "red_edge_2", "B06"]),
        ("rededge3", &["band_07", "red_edge_3", "B07"]),
        ("nir", &["band_08", "nir_1", "B08"]),
        ("nir08", &["band_8a", "nir_narrow", "nir_2", "B8A"]),
        ("nir09", &["band_09", "water_vapour", "B09"]),
        ("swir16", &["band_11", "swir_1", "swir_16", "B11"]),
        ("swir22", &["band_12", "swir_2", "swir_22", "B12"]),
    ] {
        product = product.measurement(band(name, aliases));
    }
    product
        .measurement(
            Measurement::new("scl", Dtype::Uint8, Nodata::Integer(0), "1")
                .alias("mask")
                .alias("qa")
                .alias("SCL")
                .flag(
                    "qa",
                    0..8,
                    "Sen2Cor Scene Classification",
                    [
                        (0, "no data"),
                        (1, "saturated or defective"),
                        (2, "dark area pixels"),
                        (3, "cloud shadows"),
                        (4, "vegetation"),
                        (5, "bare soils"),
                        (6, "water"),
                        (7, "unclassified"),
                        (8, "cloud medium probability"),
                        (9, "cloud high probability"),
                        (10, "thin cirrus"),
                        (11, "snow or ice"),
                    ],
                ),
        )
        .measurement(band("aot", &["aerosol_optical_thickness", "AOT"]))
        .measurement(band("wvp", &["scene_average_water_vapour", "WVP"]))
}
