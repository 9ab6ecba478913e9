# S3 backend of the dev environment, for every stack: `terraform init -backend-config=<this file,
# rendered> -backend-config=key=dev/<stack>.tfstate`. `cargo xtask bootstrap dev` creates the bucket.
bucket       = "${TF_STATE_BUCKET}"
region       = "${AWS_REGION}"
encrypt      = true
use_lockfile = true
