# Refuse a plan that keeps an aws_s3_bucket without an aws_s3_bucket_public_access_block
# naming it (`bucket = aws_s3_bucket.<name>.id`) that blocks public ACLs and ignores
# existing ones. Whether bucket policies may be public stays the block's choice.
package terraform.policies.s3_public_access_block

import rego.v1

# Created, updated or replaced: the resource exists after the apply.
kept(rc) if rc.change.after != null

blocks(block_address) if {
	some rc in input.plan.resource_changes
	rc.address == block_address
	kept(rc)
	rc.change.after.block_public_acls == true
	rc.change.after.ignore_public_acls == true
}

blocked(bucket_address) if {
	some block in input.plan.configuration.root_module.resources
	block.type == "aws_s3_bucket_public_access_block"
	references := object.get(block, ["expressions", "bucket", "references"], [])
	is_array(references)
	bucket_address in references
	blocks(block.address)
}

deny contains msg if {
	some rc in input.plan.resource_changes
	rc.type == "aws_s3_bucket"
	rc.mode == "managed"
	kept(rc)
	not blocked(rc.address)
	msg := sprintf("%s has no public access block blocking public ACLs", [rc.address])
}
