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

/// Landsat 8 Collection 2 Level-2 surface reflectance from USGS (`ls8_sr`), Digital
/// Earth Africa's definition (digitalearthafrica/config, `products/ls8_sr.odc-product.yaml`)
/// with the measurements named as USGS's STAC items name their assets (LandsatLook's
/// and Earth Search's `landsat-c2-l2`: `coastal` .. `swir22`, `qa_pixel`, `qa_radsat`,
/// `qa_aerosol`), so a dataset indexed from those items loads: an item's asset keys become
/// its measurement names. DE Africa's names (`SR_B1` .. `SR_B7`, `QA_PIXEL`, `QA_RADSAT`,
/// `SR_QA_AEROSOL`) are aliases. Seven `uint16` bands (nodata 0), the pixel quality
/// (`uint16`, nodata 1: the fill bit), radiometric saturation and the aerosol quality
/// (`uint8`, nodata 1), each with its bit flags.
pub fn landsat8_c2l2_sr() -> Product {
    landsat_oli_c2l2_sr(8)
}

/// Landsat 9 Collection 2 Level-2 surface reflectance (`ls9_sr`): Landsat 9's OLI-2 and
/// TIRS-2 deliver Landsat 8's bands and quality layers, so the definition is
/// [`landsat8_c2l2_sr`]'s for platform `landsat-9` (as DE Africa's `ls9_sr`).
pub fn landsat9_c2l2_sr() -> Product {
    landsat_oli_c2l2_sr(9)
}

/// The surface reflectance of Landsat `number` (8 or 9: OLI / OLI-2).
fn landsat_oli_c2l2_sr(number: u8) -> Product {
    let mut product = Product::new(
        format!("ls{number}_sr"),
        format!("USGS Landsat {number} Collection 2 Level-2 Surface Reflectance"),
        "CC-BY-4.0",
    )
    .property("eo:platform", format!("landsat-{number}"))
    .property(
        "eo:instrument",
        if number == 8 {
            "OLI_TIRS"
        } else {
            "OLI_TIRS_2"
        },
    );
    for (band, name, alias) in [
        (1, "coastal", "coastal_aerosol"),
        (2, "blue", "band_blue"),
        (3, "green", "band_green"),
        (4, "red", "band_red"),
        (5, "nir08", "nir"),
        (6, "swir16", "swir_1"),
        (7, "swir22", "swir_2"),
    ] {
        product = product.measurement(
            Measurement::new(name, Dtype::Uint16, Nodata::Integer(0), "1")
                .alias(format!("SR_B{band}"))
                .alias(format!("band_{band}"))
                .alias(alias),
        );
    }
    const CONFIDENCE: [(u64, &str); 4] = [(0, "none"), (1, "low"), (2, "reserved"), (3, "high")];
    let pixel = [
        ("nodata", 0),
        ("dilated_cloud", 1),
        ("cirrus", 2),
        ("cloud", 3),
        ("cloud_shadow", 4),
        ("snow", 5),
        ("clear", 6),
        ("water", 7),
    ]
    .into_iter()
    .fold(
        Measurement::new("qa_pixel", Dtype::Uint16, Nodata::Integer(1), "bit_index")
            .alias("QA_PIXEL")
            .alias("pq")
            .alias("pixel_quality"),
        |m, (flag, bit)| m.bit_flag(flag, bit),
    )
    .flag(
        "cloud_confidence",
        [8, 9],
        "Cloud confidence",
        [(0, "none"), (1, "low"), (2, "medium"), (3, "high")],
    )
    .flag(
        "cloud_shadow_confidence",
        [10, 11],
        "Cloud shadow confidence",
        CONFIDENCE,
    )
    .flag(
        "snow_ice_confidence",
        [12, 13],
        "Snow and ice confidence",
        CONFIDENCE,
    )
    .flag(
        "cirrus_confidence",
        [14, 15],
        "Cirrus confidence",
        CONFIDENCE,
    );
    let saturation = (1..=7)
        .fold(
            Measurement::new("qa_radsat", Dtype::Uint16, Nodata::Integer(0), "bit_index")
                .alias("QA_RADSAT")
                .alias("radsat")
                .alias("radiometric_saturation"),
            |m, band| m.bit_flag(format!("band_{band}_saturation"), band - 1),
        )
        .bit_flag("terrain_occlusion", 11);
    let aerosol = [
        ("nodata", 0),
        ("valid_aerosol_retrieval", 1),
        ("water", 2),
        ("interpolated_aerosol", 5),
    ]
    .into_iter()
    .fold(
        Measurement::new("qa_aerosol", Dtype::Uint8, Nodata::Integer(1), "bit_index")
            .alias("SR_QA_AEROSOL")
            .alias("aerosol_qa"),
        |m, (flag, bit)| m.bit_flag(flag, bit),
    )
    .flag(
        "aerosol_level",
        [6, 7],
        "Aerosol level",
        [(0, "climatology"), (1, "low"), (2, "medium"), (3, "high")],
    );
    product
        .measurement(pixel)
        .measurement(saturation)
        .measurement(aerosol)
}

/// The annual geometric median of Sentinel-2 (`gm_s2_annual`), as Digital Earth Africa
/// defines it (digitalearthafrica/config, `products/gm_s2_annual.odc-product.yaml`): the
/// ten 10 m and 20 m bands (`uint16`, nodata 0), the three median absolute deviations
/// (`float32`, nodata NaN) and the count of clear observations. Their definition names no
/// license; this one carries DE Africa's data license.
pub fn sentinel2_geomedian_annual() -> Product {
    let reflectance = |name: &str, aliases: &[&str]| {
        aliases.iter().fold(
            Measurement::new(name, Dtype::Uint16, Nodata::Integer(0), "1"),
            |m, alias| m.alias(*alias),
        )
    };
    let deviation = |name: &str, aliases: &[&str]| {
        aliases.iter().fold(
            Measurement::new(name, Dtype::Float32, Nodata::NaN, "1"),
            |m, alias| m.alias(*alias),
        )
    };
    let mut product = Product::new(
        "gm_s2_annual",
        "Annual Geometric Median, Sentinel-2",
        "CC-BY-4.0",
    )
    .property("eo:platform", "sentinel-2")
    .property("odc:product_family", "geomedian");
    for (name, aliases) in [
        ("B02", &["band_02", "blue"][..]),
        ("B03", &["band_03", "green"]),
        ("B04", &["band_04", "red"]),
        ("B05", &["band_05", "red_edge_1"]),
        ("B06", &["band_06", "red_edge_2"]),
        ("B07", &["band_07", "red_edge_3"]),
        ("B08", &["band_08", "nir", "nir_1"]),
        ("B8A", &["band_8a", "nir_narrow", "nir_2"]),
        ("B11", &["band_11", "swir_1", "swir_16"]),
        ("B12", &["band_12", "swir_2", "swir_22"]),
    ] {
        product = product.measurement(reflectance(name, aliases));
    }
    product
        .measurement(deviation("SMAD", &["smad", "sdev", "SDEV"]))
        .measurement(deviation("EMAD", &["emad", "edev", "EDEV"]))
        .measurement(deviation("BCMAD", &["bcmad", "bcdev", "BCDEV"]))
        .measurement(
            Measurement::new("COUNT", Dtype::Uint16, Nodata::Integer(0), "1").alias("count"),
        )
}

/// Water Observations from Space on Landsat (`wofs_ls`), the WOfS analysis seed 000
/// names (5.3.3), as Digital Earth Africa defines it (digitalearthafrica/config,
/// `products/wofs_ls.odc-product.yaml`): one `uint8` measurement `water` whose bits say
/// why a pixel was not classified (no data, non-contiguous, low solar angle, terrain
/// shadow, high slope, cloud shadow, cloud) and whether water was seen; `wet` and `dry`
/// read the classified pixels (nodata 1: the no-data bit).
pub fn wofs_landsat() -> Product {
    let water = [
        ("noncontiguous", 1),
        ("low_solar_angle", 2),
        ("terrain_shadow", 3),
        ("high_slope", 4),
        ("cloud_shadow", 5),
        ("cloud", 6),
        ("water_observed", 7),
    ]
    .into_iter()
    .fold(
        Measurement::new("water", Dtype::Uint8, Nodata::Integer(1), "1").flag_set(
            "nodata",
            [0],
            "No data",
            1,
        ),
        |m, (flag, bit)| m.bit_flag(flag, bit),
    )
    .flag_set("dry", [7, 6, 5, 4, 3, 1, 0], "Clear and dry", 0)
    .flag_set("wet", [7, 6, 5, 4, 3, 1, 0], "Clear and wet", 128);
    Product::new(
        "wofs_ls",
        "Water Observations from Space, Landsat",
        "CC-BY-4.0",
    )
    .property("odc:product_family", "wofs")
    .measurement(water)
}
