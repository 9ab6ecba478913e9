# S3 backend of the staging environment, for every stack: `terraform init -backend-config=<this file,
# rendered> -backend-config=key=staging/<stack>.tfstate`. `cargo xtask bootstrap staging` creates the bucket.
bucket       = "${TF_STATE_BUCKET}"
region       = "${AWS_REGION}"
encrypt      = true
use_lockfile = true
