# S3 backend of the production environment, for every stack: `terraform init -backend-config=<this file,
# rendered> -backend-config=key=production/<stack>.tfstate`. `cargo xtask bootstrap production` creates the bucket.
bucket       = "${TF_STATE_BUCKET}"
region       = "${AWS_REGION}"
encrypt      = true
use_lockfile = true
