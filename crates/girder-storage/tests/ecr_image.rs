//! `EcrImage`: only a private ECR image pinned by tag and digest is read, and what is
//! read is written back unchanged.

use girder_storage::{EcrImage, StorageError};
use proptest::prelude::*;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn reference(tag: &str) -> String {
    format!("333333333333.dkr.ecr.us-west-2.amazonaws.com/piksel-core:{tag}@{DIGEST}")
}

#[test]
fn a_pinned_ecr_image_is_read_into_its_parts() {
    let image = EcrImage::parse(&reference("sha-0a1b2c3-1767225600")).unwrap();
    assert_eq!(image.account(), "333333333333");
    assert_eq!(image.region(), "us-west-2");
    assert_eq!(
        image.registry(),
        "333333333333.dkr.ecr.us-west-2.amazonaws.com"
    );
    assert_eq!(image.repository(), "piksel-core");
    assert_eq!(image.tag(), "sha-0a1b2c3-1767225600");
    assert_eq!(image.digest(), DIGEST);
    assert_eq!(
        image.tag_and_digest(),
        format!("sha-0a1b2c3-1767225600@{DIGEST}")
    );
    assert_eq!(image.to_string(), reference("sha-0a1b2c3-1767225600"));
}

#[test]
fn what_is_not_a_pinned_ecr_image_is_refused_with_the_reference_named() {
    let refused = [
        // No digest: a tag can be pushed again elsewhere.
        "333333333333.dkr.ecr.us-west-2.amazonaws.com/piksel-core:v1.0.0".to_owned(),
        // Not sha256, or not 64 lowercase hex digits.
        "333333333333.dkr.ecr.us-west-2.amazonaws.com/piksel-core:v1@md5:00".to_owned(),
        reference("v1").replace("0123456789abcdef0123", "0123456789ABCDEF0123"),
        reference("v1")[..reference("v1").len() - 1].to_owned(),
        // Not ECR.
        format!("docker.io/opendatacube/ows:1.9.0@{DIGEST}"),
        format!("piksel-core:v1@{DIGEST}"),
        format!("33333.dkr.ecr.us-west-2.amazonaws.com/piksel-core:v1@{DIGEST}"),
        format!("333333333333.dkr.ecr.US-WEST-2.amazonaws.com/piksel-core:v1@{DIGEST}"),
        // No tag, `latest`, a bad tag, a bad repository name.
        format!("333333333333.dkr.ecr.us-west-2.amazonaws.com/piksel-core@{DIGEST}"),
        reference("latest"),
        reference("-v1"),
        reference("v1 ; rm"),
        format!("333333333333.dkr.ecr.us-west-2.amazonaws.com/Piksel:v1@{DIGEST}"),
    ];
    for bad in refused {
        match EcrImage::parse(&bad) {
            Err(StorageError::EcrImage { image, .. }) => assert_eq!(image, bad),
            other => panic!("{bad:?} was not refused as an image: {other:?}"),
        }
    }
}

proptest! {
    #[test]
    fn every_read_image_is_written_back_unchanged(
        account in "[0-9]{12}",
        region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        repository in "[a-z0-9][a-z0-9_./-]{1,40}",
        tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}",
        hex in "[0-9a-f]{64}",
    ) {
        prop_assume!(tag != "latest");
        let reference = format!("{account}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}@sha256:{hex}");
        let image = EcrImage::parse(&reference).unwrap();
        prop_assert_eq!(image.to_string(), reference);
        prop_assert_eq!(image.repository(), repository.as_str());
    }
}
