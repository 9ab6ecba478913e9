locals {
  # Bucket names are global: the account id keeps two accounts' environments apart.
  buckets = merge(
    {
      artifacts        = "${local.prefix}-artifacts-${local.account_id}"
      codebuild_source = "${local.prefix}-codebuild-src-${local.account_id}"
    },
    var.cloudfront_enabled ? { web = "${local.prefix}-web-${local.account_id}" } : {},
  )
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets
  bucket   = each.value
  # Retained environments keep their data: a non-empty bucket then cannot be destroyed.
  force_destroy = var.removal_policy_destroy
  tags          = merge(local.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Source uploads for CodeBuild are disposable: old versions go after a week.
resource "aws_s3_bucket_lifecycle_configuration" "codebuild_source" {
  bucket = aws_s3_bucket.this["codebuild_source"].id
  rule {
    id     = "expire-old-sources"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
