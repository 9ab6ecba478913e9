# The agents' image repositories live in the platform phase, not with the runtimes: an image
# must exist (phase "images") before the runtime that pins its digest (phase "agents"), and a
# repository should outlive any one runtime.
resource "aws_ecr_repository" "agent" {
  for_each             = var.agent_ids
  name                 = "${var.project_name}/${var.environment}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.removal_policy_destroy

  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
  tags = merge(local.tags, { Agent = each.key })
}

# Runtimes pin images by digest, so an untagged image may well be the one running: expire by
# count only, keeping enough history to roll back.
resource "aws_ecr_lifecycle_policy" "agent" {
  for_each   = aws_ecr_repository.agent
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the newest ${var.ecr_keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = { type = "expire" }
    }]
  })
}
