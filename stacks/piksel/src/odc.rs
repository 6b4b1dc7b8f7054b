//! The Open Data Cube on Piksel (issue 14, started): app `odc-index` of
//! `piksel-eks-<env>`, the product definitions the index is to hold (girder-odc's typed
//! eo3 products, checked before synth: seed 000's Sentinel-2 L2A and Landsat surface
//! reflectance, and the Sentinel-2 annual geomedian its analysis writes), as ConfigMap
//! `odc-products` in namespace `odc`, one `<product>.odc-product.yaml` key each: what
//! `datacube product add` reads. The Job that adds them, the index's users and the
//! indexing CronJobs come with the rest of issue 14.

use girder_core::{Error, Result, Stack};
use girder_k8s::{ConfigMap, NamespaceHandle};
use girder_odc::{Product, catalogue};

use crate::platform::ODC_NAMESPACE;

/// The Kubernetes app.
pub(crate) const APP: &str = "odc-index";

/// The ConfigMap of the product definitions.
pub(crate) const PRODUCTS: &str = "odc-products";

/// The products the index holds.
pub fn products() -> Vec<Product> {
    vec![
        catalogue::sentinel2_l2a(),
        catalogue::landsat8_c2l2_sr(),
        // What the geomedian analysis (seed 000) writes.
        catalogue::sentinel2_geomedian_annual(),
    ]
}

/// Add app `odc-index` to `stack`.
pub(crate) fn add(stack: &mut Stack) -> Result<()> {
    let mut root = stack.root();
    let app = &mut root.child(APP)?.with_kube_app(APP)?;
    let at = app.location();
    let mut config = ConfigMap::new(&NamespaceHandle::existing(ODC_NAMESPACE), PRODUCTS);
    for product in products() {
        let yaml = product.to_yaml().map_err(|e| Error::construct(&at, e))?;
        config = config.entry(format!("{}.odc-product.yaml", product.name()), yaml);
    }
    let _products = girder_core::construct::Construct::add(config, app, "products")?;
    Ok(())
}
